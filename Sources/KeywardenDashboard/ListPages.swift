import KeywardenCore

/// Reads a list a page of ``PageLimit/maximum`` at a time, following each page's last id, up to
/// `maximumPages` pages: what a page lists is bounded however long the list grows.
///
/// - Returns: the items read, and whether the list went on past the last page read.
func readPages<Item: Sendable>(
    maximumPages: Int, cursor: (Item) -> String, _ page: (_ after: String?) async throws -> Page<Item>
) async throws -> (items: [Item], truncated: Bool) {
    var items: [Item] = []
    var after: String?
    for _ in 0..<maximumPages {
        let next = try await page(after)
        items += next.items
        guard next.hasMore, let last = next.items.last else { return (items, false) }
        after = cursor(last)
    }
    return (items, true)
}
