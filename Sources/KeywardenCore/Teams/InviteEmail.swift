import Foundation

/// The email an invite sends: who invites the person to which organization, with what role, the
/// link that accepts it and when it expires.
enum InviteEmail {
    /// The message inviting `invite.email`, with `link` to accept.
    static func message(
        for invite: Invite, organization: Organization, inviter: User, link: String
    ) -> EmailMessage {
        let who = inviter.name.isEmpty ? inviter.email.value : "\(inviter.name) (\(inviter.email.value))"
        let role = invite.role == .owner ? "an owner" : "a member"
        let expires = expiry(invite.expiresAt)
        let text = """
            \(who) invited you to join the organization \(organization.name) on Keywarden as \(role).

            Open this link to accept the invite:

            \(link)

            The invite expires on \(expires). Sign up or log in with this email address \
            (\(invite.email.value)) to join. If you did not expect this invite, ignore this email.
            """
        let html = """
            <p>\(escaped(who)) invited you to join the organization <strong>\(escaped(organization.name))</strong> \
            on Keywarden as \(role).</p>
            <p><a href="\(escaped(link))">Accept the invite</a></p>
            <p>The invite expires on \(expires). Sign up or log in with this email address \
            (\(escaped(invite.email.value))) to join. If you did not expect this invite, ignore this email.</p>
            """
        return EmailMessage(
            to: invite.email,
            subject: "\(inviter.name.isEmpty ? inviter.email.value : inviter.name) invited you to "
                + "\(organization.name) on Keywarden", text: text, html: html)
    }

    /// `2025-06-22 12:00 UTC`.
    static func expiry(_ date: Date) -> String {
        // `2025-06-22T12:00:00Z`, in UTC whatever the machine's zone.
        let stamp = ISO8601DateFormatter().string(from: date)
        return String(stamp.prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    /// Text made safe for HTML, quotes included.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
