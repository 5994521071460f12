import Foundation

/// The email an owner gets about an alert: which key (its name, redacted form and project, never
/// its secret), what was seen against what is usual, and what to do, with a link to the API keys
/// page.
enum KeyAlertEmail {
    /// The message to `address` about `alert`.
    ///
    /// - Parameter window: the alert window in seconds, named in the closing line.
    static func message(
        for alert: KeyAlert, to address: EmailAddress, organizationName: String, projectName: String?,
        link: String, window: Int
    ) -> EmailMessage {
        let key = alert.keyName.isEmpty ? alert.redactedValue : "\(alert.keyName) (\(alert.redactedValue))"
        var place = projectName.map { "of the project \($0)" } ?? "(an admin key)"
        if !organizationName.isEmpty { place += " in \(organizationName)" }
        let hourEnd = utcMinutes(alert.createdAt)
        let seen: String
        let subject: String
        switch alert.kind {
        case .callSpike:
            subject = "Unusual number of calls with the API key \(alert.redactedValue)"
            seen =
                "made \(alert.observed) calls in the hour to \(hourEnd), against \(usual(alert.baseline)) an hour "
                + "over the 7 days before."
        case .errorSpike:
            subject = "Unusual number of failed calls with the API key \(alert.redactedValue)"
            seen =
                "had \(alert.observed) failed calls (answered with a status of 400 or more, Keywarden's "
                + "rate-limit and spend refusals included) in the hour to \(hourEnd), against "
                + "\(usual(alert.baseline)) an hour over the 7 days before."
        case .idleKeyUsed:
            let since = alert.idleSince ?? alert.createdAt
            let days = Int(max(alert.createdAt.timeIntervalSince(since), 0) / 86_400)
            subject = "The API key \(alert.redactedValue) was used after \(days) days without a call"
            seen =
                "was used again in the hour to \(hourEnd) (\(alert.observed) calls), after no call since "
                + "\(utcMinutes(since)), \(days) days before."
        }
        let advice =
            "If you expect this, there is nothing to do. If not, the key may have leaked: check where it is "
            + "used, and rotate it or revoke it on the API keys page:"
        let closing =
            "You get this email as an owner of the organization. At most one alert of this kind is sent per key "
            + "every \(duration(window)); the alert shows on the API keys page until it is dismissed."
        let text = """
            The API key \(key) \(place) \(seen)

            \(advice)

            \(link)

            \(closing)
            """
        let html = """
            <p>The API key <strong>\(InviteEmail.escaped(key))</strong> \(InviteEmail.escaped(place)) \
            \(InviteEmail.escaped(seen))</p>
            <p>\(InviteEmail.escaped(advice))</p>
            <p><a href="\(InviteEmail.escaped(link))">API keys</a></p>
            <p>\(InviteEmail.escaped(closing))</p>
            """
        return EmailMessage(to: address, subject: subject, text: text, html: html)
    }

    /// "a usual 12", or "fewer than one" for a key that was almost never used.
    static func usual(_ baseline: Int) -> String {
        baseline == 0 ? "fewer than one" : "a usual \(baseline)"
    }

    /// `24 hours`, `7 days`.
    static func duration(_ seconds: Int) -> String {
        if seconds >= 2 * 86_400, seconds % 86_400 == 0 { return "\(seconds / 86_400) days" }
        if seconds % 3600 == 0 { return seconds == 3600 ? "hour" : "\(seconds / 3600) hours" }
        return "\(seconds) seconds"
    }

    /// `2025-06-15 15:06 UTC`.
    static func utcMinutes(_ date: Date) -> String {
        // `2025-06-15T15:06:40Z`, in UTC whatever the machine's zone.
        let stamp = ISO8601DateFormatter().string(from: date)
        return String(stamp.prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }
}
