import Foundation
import Hummingbird
import KeywardenCore

/// What the console's Organizations pages show: the search results and one organization's detail
/// with its action forms.
extension ConsolePages {
    /// An organization's verification, in the parts its sentence is built from.
    struct VerificationFacts: Sendable {
        let unverified: Bool
        let verified: Bool
        let exempt: Bool
        /// `phone` or `support`.
        let method: String?
        /// All but the last digits hidden.
        let maskedNumber: String?
        /// The operator who approved an exemption.
        let approvedBy: String?
        /// When it was verified or exempted, in UTC.
        let verifiedAt: String?

        init(_ verification: OrganizationVerification) {
            unverified = verification.status == .unverified
            verified = verification.status == .verified
            exempt = verification.status == .exempt
            method = verification.method
            maskedNumber = verification.maskedPhoneNumber
            approvedBy = verification.approvedBy
            verifiedAt = verification.verifiedAt.map(UTCTime.minutes)
        }
    }

    /// One organization in the search results.
    struct OrganizationRow: Sendable {
        let id: String
        let name: String
        let verification: VerificationFacts
        let memberCount: Int
        let suspended: Bool

        init(_ summary: OrganizationSummary) {
            id = summary.organization.id.rawValue
            name = summary.organization.name
            verification = VerificationFacts(summary.organization.verification)
            memberCount = summary.memberCount
            suspended = summary.suspension != nil
        }
    }

    /// The Organizations page.
    struct SearchView: Sendable {
        let layout: Layout
        /// The search as typed.
        let query: String
        let queryError: String?
        let rows: [OrganizationRow]
        let hasRows: Bool
    }

    /// One member on the detail page.
    struct MemberRow: Sendable {
        let email: String
        let name: String
        let owner: Bool
        let added: String

        init(_ member: OrganizationMember) {
            email = member.user.email.value
            name = member.user.name
            owner = member.role == .owner
            added = UTCTime.minutes(member.addedAt)
        }
    }

    /// One key on the detail page, revoked and expired ones included.
    struct KeyRow: Sendable {
        let name: String
        let unnamed: Bool
        let redactedValue: String
        /// `nil` for an admin key, which belongs to no project.
        let projectID: String?
        let created: String
        let lastUsed: String?
        let active: Bool
        let revoked: Bool
        let expired: Bool
        /// Stopped by its organization until enabled again (revoked and expired keys say so instead).
        let disabled: Bool

        init(_ key: APIKey, now: Date) {
            name = key.name
            unnamed = key.name.isEmpty
            redactedValue = key.redactedValue
            projectID = key.projectID?.rawValue
            created = UTCTime.minutes(key.createdAt)
            lastUsed = key.lastUsedAt.map(UTCTime.minutes)
            revoked = key.revokedAt != nil
            let live = key.isActive(at: now)
            expired = !revoked && !live
            disabled = live && key.isDisabled
            active = live && !key.isDisabled
        }
    }

    /// One choice of the "Tier" select.
    struct TierChoice: Sendable {
        let value: String
        let label: String
        let selected: Bool
    }

    /// A form with one reason field: what it holds and why it was refused.
    struct ReasonForm: Sendable {
        let reason: String
        let error: String?
    }

    /// The "Grant credits" form.
    struct CreditsForm: Sendable {
        let amount: String
        let reason: String
        let amountError: String?
        let reasonError: String?
    }

    /// The detail page of one organization.
    struct DetailView: Sendable {
        let layout: Layout
        let id: String
        let name: String
        let created: String
        let verification: VerificationFacts
        let suspended: Bool
        /// When and why it was suspended.
        let suspendedAt: String?
        let suspendedBecause: String?
        /// The tier it is on, and whether an operator pinned it (otherwise payments earned it).
        let tierName: String
        let tierPinned: Bool
        let members: [MemberRow]
        let keys: [KeyRow]
        let hasKeys: Bool
        /// The last 30 days.
        let requests: Int
        let tokens: Int
        let cost: String
        let balance: String
        let sharingNumber: Int
        let sharingCard: Int
        let supportRequests: [SupportPages.RequestRow]
        let hasSupportRequests: Bool
        // The action forms, with what a refused one held.
        let suspendForm: ReasonForm
        let resetForm: ReasonForm
        let tiers: [TierChoice]
        /// "Earned by payment" is the tier form's choice.
        let tierEarned: Bool
        let tierError: String?
        let creditsForm: CreditsForm
        /// A refusal about no one field.
        let pageError: String?
    }

    /// The detail page's actions, each a form of its own.
    enum Action: Sendable {
        case suspend, unsuspend, resetVerification, setTier, grantCredits
    }

    /// An action the page refused: which one, what its form held, and why.
    struct ActionRefusal: Sendable {
        let action: Action
        let fields: FormFields
        let errors: FieldErrors

        /// What the form's field `name` held, when this refusal is of `action`.
        func typed(_ name: String, in action: Action) -> String? {
            self.action == action ? fields[name] ?? "" : nil
        }

        /// The sentence next to the field `name`, when this refusal is of `action`.
        func error(_ name: String, in action: Action) -> String? {
            self.action == action ? errors.fields[name] : nil
        }
    }
}

extension Request {
    /// A query parameter as a GET form sends it: `+` is a space and `%2B` a plus (so a search for
    /// "Acme Corp" or "+44" reads as typed).
    func formQuery(_ name: String) -> String {
        FormEncoding.decode(uri.query ?? "").first { $0.0 == name }?.1 ?? ""
    }
}
