import Foundation
import Logging

/// GitHub's secret-scanning partner endpoint without the HTTP: a report GitHub signed is read,
/// each live Keywarden key in it is revoked at once (in storage and in this instance's index;
/// other instances hear of it as of any revocation) and audited as `api_key.leaked`, the owners
/// of each organization concerned get one email, and every match gets its feedback.
public struct SecretScanningService: Sendable {
    let keys: APIKeyService
    let accounts: any AccountRepository
    let signature: SecretScanningSignature
    let email: EmailSender
    let publicURL: String
    let logger: Logger

    /// Who found the keys, as the audit log names them (`reported_by`).
    public static let reporter = "github_secret_scanning"

    /// Creates the service; `publicURL` starts the link in its emails.
    public init(
        keys: APIKeyService, accounts: any AccountRepository, publicKeys: SecretScanningKeyCache, email: EmailSender,
        publicURL: String, logger: Logger
    ) {
        self.keys = keys
        self.accounts = accounts
        self.signature = SecretScanningSignature(keys: publicKeys)
        self.email = email
        self.publicURL = publicURL
        self.logger = logger
    }

    /// Acts on one report: its raw body and the values of its two signature headers. Nothing is
    /// read from the body until its signature is checked. The feedback has one entry per match,
    /// in their order; a token that is not a key is labelled a false positive and does not stop
    /// the others.
    ///
    /// Each match is acted on by itself: one that storage fails on is logged (never its token)
    /// and does not stop the others, and the owners are mailed about every key revoked all the
    /// same. The report is then answered ``DomainError/secretScanningReportIncomplete(failed:of:)``
    /// (503) so that GitHub delivers it again: the keys revoked this time are true positives
    /// without a second mail then, and the failed match is acted on afresh.
    public func receive(
        _ body: [UInt8], keyIdentifier: String?, signature presented: String?
    ) async throws -> [SecretScanningFeedback] {
        try await signature.verify(body, keyIdentifier: keyIdentifier, signature: presented)
        let matches = try SecretScanningReport.matches(in: body)
        var feedback: [SecretScanningFeedback] = []
        feedback.reserveCapacity(matches.count)
        // Every key is revoked before anyone is mailed, and each organization gets one email.
        var revoked: [(organization: OrganizationID, keys: [APIKeyService.LeakedKey])] = []
        var failed = 0
        for (position, match) in matches.enumerated() {
            let outcome: APIKeyService.LeakOutcome
            do {
                outcome = try await keys.revokeLeaked(
                    match.token, url: match.url, source: match.source, reporter: Self.reporter)
            } catch {
                failed += 1
                logger.error(
                    "leaked api key report match not acted on",
                    metadata: ["match": .string(String(position)), "error.type": "\(type(of: error))"])
                continue
            }
            switch outcome {
            case .notOurs:
                feedback.append(SecretScanningFeedback(match, label: .falsePositive))
            case .alreadyInactive:
                feedback.append(SecretScanningFeedback(match, label: .truePositive))
            case .revoked(let leaked):
                feedback.append(SecretScanningFeedback(match, label: .truePositive))
                let organization = leaked.key.organizationID
                logger.notice(
                    "leaked api key revoked",
                    metadata: [
                        "key_id": .string(leaked.key.id.rawValue), "organization_id": .string(organization.rawValue),
                    ])
                if let index = revoked.firstIndex(where: { $0.organization == organization }) {
                    revoked[index].keys.append(leaked)
                } else {
                    revoked.append((organization: organization, keys: [leaked]))
                }
            }
        }
        // Mailed even when a match failed: the next delivery finds these keys revoked already.
        for (organization, leaked) in revoked {
            await mailOwners(of: organization, about: leaked)
        }
        guard failed == 0 else { throw DomainError.secretScanningReportIncomplete(failed: failed, of: matches.count) }
        return feedback
    }

    /// Emails every owner of the organization; a failure is logged, since the keys are revoked
    /// and audited either way.
    func mailOwners(of organization: OrganizationID, about leaked: [APIKeyService.LeakedKey]) async {
        let members: [OrganizationMember]
        do {
            members = try await accounts.members(of: organization)
        } catch {
            logger.warning(
                "leaked key email not sent",
                metadata: ["organization_id": .string(organization.rawValue), "error.type": "\(type(of: error))"])
            return
        }
        for member in members where member.role == .owner {
            do {
                try await email.send(LeakedKeyMail.message(to: member.user.email, keys: leaked, publicURL: publicURL))
            } catch {
                logger.warning(
                    "leaked key email not sent",
                    metadata: ["organization_id": .string(organization.rawValue), "error.type": "\(type(of: error))"])
            }
        }
    }
}

extension DomainError {
    /// Storage failed on `failed` of a report's `total` matches; the others were acted on. 503,
    /// so GitHub delivers the report again.
    public static func secretScanningReportIncomplete(failed: Int, of total: Int) -> DomainError {
        DomainError(
            .unavailable, code: .serverError,
            message:
                "\(failed) of the report's \(total) matches could not be acted on now; the others were. Deliver the report again later."
        )
    }
}
