import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// A page request by a signed-in person. It cannot exist without a session from the cookie and
/// the form token bound to it; without them the request is sent to `/login`.
struct PageContext: KeywardenChildContext {
    var basics: RequestBasics
    /// The signed-in person and their memberships.
    let identity: SignedInIdentity
    /// The session the cookie named.
    let session: Session
    /// The token every form of this session carries.
    let formToken: String
    /// The organization chosen in the header (the first one until one is chosen).
    let membership: Membership

    init(context: KeywardenRequestContext) throws {
        guard let identity = context.identity, let session = identity.session, let formToken = context.formToken,
            let first = identity.memberships.first
        else { throw PageRedirect.signInRequired }
        self.basics = RequestBasics(context)
        self.identity = identity
        self.session = session
        self.formToken = formToken
        self.membership =
            identity.memberships.first { $0.organization.id.rawValue == identity.requestedOrganization } ?? first
    }

    /// The actor audit events name for what this person does from this address.
    var actor: AuditActor { .session(identity.user, ipAddress: clientAddress) }
}

/// Where a page sends the browser instead of answering.
enum PageRedirect: Error {
    /// The page needs a signed-in person: to `/login?next=` the page asked for.
    case signInRequired
    /// To `location` (a path of this site), with a message for the next page.
    case to(String, flash: String?)
}

/// A request a page refuses outright (403), saying why in words.
enum PageRefusal: Error {
    /// A POST whose `Origin` is not this site.
    case foreignOrigin
    /// A POST without the form token of this browser's session.
    case missingFormToken

    /// What the page says.
    var sentence: String {
        switch self {
        case .foreignOrigin:
            return "This form was sent from another site, so nothing was done. Open the page again and resend it."
        case .missingFormToken:
            return "This form has expired or did not come from this page, so nothing was done. "
                + "Open the page again and resend it."
        }
    }
}

/// A path of this site to return to after signing in: `/` for anything that is not a plain
/// local path (no scheme, no host, no `//`, no backslash).
func localPath(_ raw: String?) -> String {
    guard let raw, raw.hasPrefix("/"), !raw.hasPrefix("//"), !raw.contains("\\"), raw.count <= 512,
        !raw.unicodeScalars.contains(where: {
            $0.value < 0x21 || $0.value == 0x7F || "\"'<>`".unicodeScalars.contains($0)
        })
    else { return "/" }
    return raw
}
