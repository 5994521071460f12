import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The JSON shapes of the management API, in OpenAI's conventions: an `object` field,
/// prefixed ids, Unix-second timestamps, and `null` written out rather than omitted.

/// A user as shown to themselves.
struct UserObject: ResponseEncodable {
    let object = "user"
    let id: String
    let email: String
    let name: String
    let createdAt: Int64
    /// Whether the person opened the confirmation link mailed to the address.
    let emailConfirmed: Bool

    init(_ user: User) {
        id = user.id.rawValue
        email = user.email.value
        name = user.name
        createdAt = user.createdAt.unixSeconds
        emailConfirmed = user.isEmailConfirmed
    }

    enum CodingKeys: String, CodingKey {
        case object, id, email, name
        case createdAt = "created_at"
        case emailConfirmed = "email_confirmed"
    }
}

/// An organization, with the caller's role in it when known.
struct OrganizationObject: ResponseEncodable {
    let object = "organization"
    let id: String
    let name: String
    let personal: Bool
    let createdAt: Int64
    @ExplicitNull var role: String?
    let verification: VerificationObject
    /// Set while an operator has suspended the organization (its keys are refused).
    @ExplicitNull var suspension: SuspensionObject?

    init(_ organization: Organization, role: OrganizationRole?) {
        id = organization.id.rawValue
        name = organization.name
        personal = organization.isPersonal
        createdAt = organization.createdAt.unixSeconds
        self.role = role?.rawValue
        verification = VerificationObject(organization.verification)
        suspension = organization.suspension.map(SuspensionObject.init)
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, personal, role, verification, suspension
        case createdAt = "created_at"
    }

    /// `{status, method, verified_at, phone_number}`, the number masked.
    struct VerificationObject: Encodable, Sendable {
        let status: String
        @ExplicitNull var method: String?
        @ExplicitNull var verifiedAt: Int64?
        @ExplicitNull var phoneNumber: String?

        init(_ verification: OrganizationVerification) {
            status = verification.status.rawValue
            method = verification.method
            verifiedAt = verification.verifiedAt?.unixSeconds
            phoneNumber = verification.maskedPhoneNumber
        }

        enum CodingKeys: String, CodingKey {
            case status, method
            case verifiedAt = "verified_at"
            case phoneNumber = "phone_number"
        }
    }

}

/// A member of an organization (OpenAI's `organization.user`).
struct OrganizationUserObject: ResponseEncodable {
    let object = "organization.user"
    let id: String
    let name: String
    let email: String
    let role: String
    let addedAt: Int64

    init(_ member: OrganizationMember) {
        id = member.user.id.rawValue
        name = member.user.name
        email = member.user.email.value
        role = member.role.rawValue
        addedAt = member.addedAt.unixSeconds
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, email, role
        case addedAt = "added_at"
    }
}

/// A project (OpenAI's `organization.project`).
struct ProjectObject: ResponseEncodable {
    let object = "organization.project"
    let id: String
    let name: String
    let isDefault: Bool
    let createdAt: Int64
    @ExplicitNull var archivedAt: Int64?
    let status: String

    init(_ project: Project) {
        id = project.id.rawValue
        name = project.name
        isDefault = project.isDefault
        createdAt = project.createdAt.unixSeconds
        archivedAt = project.archivedAt?.unixSeconds
        status = project.isArchived ? "archived" : "active"
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, status
        case isDefault = "is_default"
        case createdAt = "created_at"
        case archivedAt = "archived_at"
    }

}

/// A page of objects: `{"object":"list","data":[...],"first_id","last_id","has_more"}`.
struct ListObject<Element: Encodable & Sendable>: ResponseEncodable {
    let object = "list"
    let data: [Element]
    @ExplicitNull var firstID: String?
    @ExplicitNull var lastID: String?
    let hasMore: Bool

    init(_ data: [Element], id: (Element) -> String, hasMore: Bool) {
        self.data = data
        firstID = data.first.map(id)
        lastID = data.last.map(id)
        self.hasMore = hasMore
    }

    enum CodingKeys: String, CodingKey {
        case object, data
        case firstID = "first_id"
        case lastID = "last_id"
        case hasMore = "has_more"
    }

}

extension Date {
    /// Saturates instead of trapping, like the stored milliseconds it is read from.
    var unixSeconds: Int64 { Int64(saturating: timeIntervalSince1970.rounded(.down)) }
}

/// Encodes a value with a status other than 200.
struct Created<Body: ResponseEncodable>: ResponseGenerator {
    let body: Body

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try body.response(from: request, context: context)
        response.status = .created
        return response
    }
}
