import Foundation
import KeywardenCore
import SQLKit

/// Keyset pagination over `(time column, id)`: where the cursor row sits, the condition that
/// starts a page after it, the order, and the one extra row that tells whether a page follows.
struct Keyset {
    let timeColumn: String
    let descending: Bool
    /// The cursor row's position; `nil` before the first page.
    let position: (time: Int64, id: String)?

    /// Finds the row `id` of `table` in `organization` that passes the list's own `filter`, to page
    /// after it; a cursor that names no such row is refused, since starting over would send a client's paging loop round forever.
    static func after(
        _ id: String?, in table: String, organization: OrganizationID, timeColumn: String, descending: Bool = false,
        within filter: SQLQueryString = "1 = 1", db: any SQLDatabase
    ) async throws -> Keyset {
        var position: (Int64, String)?
        if let id,
            let row = try await db.raw(
                """
                SELECT \(ident: timeColumn), id FROM \(ident: table)
                WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue) AND \(filter)
                """
            ).first()
        {
            position = (try row.decode(column: timeColumn, as: Int64.self), try row.string("id"))
        } else if id != nil {
            throw DomainError.unknownCursor
        }
        return Keyset(timeColumn: timeColumn, descending: descending, position: position)
    }

    /// `AND` this to a `WHERE`: rows after the cursor in the page order (all rows without one).
    var condition: SQLQueryString {
        guard let (time, id) = position else { return "1 = 1" }
        let comparison = descending ? "<" : ">"
        return """
            (\(ident: timeColumn) \(unsafeRaw: comparison) \(bind: time) OR (\(ident: timeColumn) = \(bind: time) AND id \(unsafeRaw: comparison) \(bind: id)))
            """
    }

    /// The `ORDER BY` and `LIMIT` of a page of `limit` rows, plus one to see past its end.
    func orderAndLimit(_ limit: Int) -> SQLQueryString {
        let direction = descending ? " DESC" : ""
        return
            "ORDER BY \(ident: timeColumn)\(unsafeRaw: direction), id\(unsafeRaw: direction) LIMIT \(literal: limit + 1)"
    }

    /// The page from rows fetched with ``orderAndLimit(_:)``.
    static func page<Item>(_ items: [Item], limit: Int) -> Page<Item> {
        Page(items: Array(items.prefix(limit)), hasMore: items.count > limit)
    }
}
