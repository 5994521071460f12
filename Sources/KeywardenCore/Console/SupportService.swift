import Foundation
import Logging

/// The support route for people who cannot verify a phone number: an owner files a request, its
/// members see where it is, and an operator approves it (the organization becomes `exempt`, method
/// `support`) or declines it with a reason. Both decisions are audited and mailed to the owners.
public struct SupportService: Sendable {
    let requests: any SupportRequestRepository
    let accounts: any AccountRepository
    let audit: any AuditLogRepository
    let email: EmailSender
    let publicURL: String
    let clock: Clock
    let logger: Logger
    /// The gateway's suspended set, updated when an appeal is approved.
    let suspended: SuspendedOrganizations

    /// Creates the service; `publicURL` starts the links in its emails.
    public init(
        requests: any SupportRequestRepository, accounts: any AccountRepository, audit: any AuditLogRepository,
        email: EmailSender, publicURL: String, suspended: SuspendedOrganizations, clock: Clock, logger: Logger
    ) {
        self.suspended = suspended
        self.requests = requests
        self.accounts = accounts
        self.audit = audit
        self.email = email
        self.publicURL = publicURL
        self.clock = clock
        self.logger = logger
    }

    /// Files a request for the organization; owners only, one open at a time, and none once it is
    /// verified or exempt.
    ///
    /// - Parameters:
    ///   - rawReason: one of ``SupportReason``'s raw values.
    ///   - rawDetails: what the person wants the operator to know; at most 2,000 characters.
    public func file(
        reason rawReason: String?, details rawDetails: String?, membership: Membership, user: User,
        clientAddress: String?
    ) async throws -> SupportRequest {
        try membership.require(.verifyPhone)
        guard let rawReason, !rawReason.isEmpty else { throw DomainError.missingField("reason") }
        guard let reason = SupportReason(rawValue: rawReason) else {
            throw DomainError.invalidField(
                "reason",
                "'reason' is one of \(SupportReason.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let details = (rawDetails ?? "").trimmingWhitespace()
        guard details.count <= SupportRequest.maxDetailsLength else {
            throw DomainError.invalidField(
                "details",
                "'details' is at most \(SupportRequest.maxDetailsLength) characters; it has \(details.count).")
        }
        if reason == .other, details.isEmpty {
            throw DomainError.invalidField("details", "Say what stops you from verifying a phone number.")
        }
        let organization = membership.organization
        if reason == .suspensionAppeal {
            guard organization.suspension != nil else {
                throw DomainError.invalidField(
                    "reason", "This organization is not suspended; there is nothing to appeal.")
            }
            if details.isEmpty {
                throw DomainError.invalidField("details", "Say why the suspension should be lifted.")
            }
        } else if organization.suspension != nil {
            // An exemption would not let a suspended organization make keys: only an appeal helps.
            throw DomainError.invalidField(
                "reason", "This organization is suspended; the only request it can file is 'suspension_appeal'.")
        } else if organization.verification.status != .unverified {
            throw DomainError(
                .conflict, code: .invalidValue,
                message:
                    "This organization is \(organization.verification.status.rawValue) already; it can create keys.")
        }
        let now = wholeMilliseconds(clock.now())
        let request = SupportRequest(
            id: .generate(), organizationID: organization.id, userID: user.id, email: user.email.value,
            reason: reason, details: details, status: .open, createdAt: now)
        guard try await requests.create(request) else { throw DomainError.supportRequestExists }
        try await audit.append(
            AuditEvent(
                organizationID: organization.id, type: .supportRequestCreated, effectiveAt: now,
                actor: .session(user, ipAddress: clientAddress),
                details: ["support_request_id": request.id.rawValue, "reason": reason.rawValue]))
        return request
    }

    /// The organization's requests, newest first (every member may read them).
    public func requests(for membership: Membership, limit: Int = 20) async throws -> [SupportRequest] {
        try membership.require(.readOrganization)
        return try await requests.requests(in: membership.organization.id, limit: limit)
    }

    /// One of the organization's requests.
    public func request(_ rawID: String, for membership: Membership) async throws -> SupportRequest {
        try membership.require(.readOrganization)
        guard let id = SupportRequestID(rawID), let request = try await requests.request(id),
            request.organizationID == membership.organization.id
        else { throw DomainError.supportRequestNotFound(rawID) }
        return request
    }

    // MARK: Operators

    /// The queue: requests in `status` (open ones oldest first).
    public func queue(
        status: SupportRequest.Status?, after: SupportRequestID?, limit: Int
    ) async throws
        -> Page<SupportRequest>
    {
        try await requests.queue(status: status, after: after, limit: limit)
    }

    /// Any request, for an operator.
    public func request(_ rawID: String) async throws -> SupportRequest {
        guard let id = SupportRequestID(rawID), let request = try await requests.request(id) else {
            throw DomainError.supportRequestNotFound(rawID)
        }
        return request
    }

    /// Approves an open request: its organization becomes `exempt` with method `support`,
    /// recorded with the operator, and its owners are told.
    public func approve(
        _ rawID: String, by operatorUser: User, clientAddress: String?
    ) async throws
        -> SupportRequest
    {
        let existing = try await request(rawID)
        let now = wholeMilliseconds(clock.now())
        let actor = AuditActor.console(operatorUser, ipAddress: clientAddress)
        let appeal = existing.reason == .suspensionAppeal
        var events = [
            AuditEvent(
                organizationID: existing.organizationID, type: .supportRequestApproved, effectiveAt: now, actor: actor,
                details: [
                    "support_request_id": existing.id.rawValue, "reason": existing.reason.rawValue,
                    "outcome": appeal ? "unsuspended" : "exempt",
                ])
        ]
        if appeal {
            events.append(
                AuditEvent(
                    organizationID: existing.organizationID, type: .organizationUnsuspended, effectiveAt: now,
                    actor: actor, details: ["support_request_id": existing.id.rawValue]))
        }
        // The decision and its audit entries are written together, or neither is.
        let decided = try Self.outcome(
            try await requests.approve(existing.id, by: operatorUser.email.value, at: now, recording: events),
            id: rawID)
        if appeal {
            suspended.remove(decided.organizationID)
            await mailOwners(
                of: decided.organizationID, subject: "Your organization's suspension was lifted",
                text: """
                    An operator approved your appeal: your organization is no longer suspended, and its keys work again.

                    \(publicURL)/api-keys
                    """)
            return decided
        }
        await mailOwners(
            of: decided.organizationID, subject: "Your support request was approved",
            text: """
                An operator approved your organization's request to create API keys without a verified phone number.

                You can create API keys now: \(publicURL)/api-keys
                """)
        return decided
    }

    /// Declines an open request with a reason the owners are told.
    public func decline(
        _ rawID: String, reason rawReason: String?, by operatorUser: User, clientAddress: String?
    ) async throws -> SupportRequest {
        let reason = (rawReason ?? "").trimmingWhitespace()
        guard !reason.isEmpty else { throw DomainError.missingField("reason") }
        guard reason.count <= SupportRequest.maxDeclineReasonLength else {
            throw DomainError.invalidField(
                "reason", "'reason' is at most \(SupportRequest.maxDeclineReasonLength) characters.")
        }
        let existing = try await request(rawID)
        let now = wholeMilliseconds(clock.now())
        let event = AuditEvent(
            organizationID: existing.organizationID, type: .supportRequestDeclined, effectiveAt: now,
            actor: .console(operatorUser, ipAddress: clientAddress),
            details: ["support_request_id": existing.id.rawValue, "reason": reason])
        let decided = try Self.outcome(
            try await requests.decline(
                existing.id, reason: reason, by: operatorUser.email.value, at: now, recording: [event]),
            id: rawID)
        await mailOwners(
            of: decided.organizationID, subject: "Your support request was declined",
            text: """
                An operator declined your organization's \(existing.reason == .suspensionAppeal ? "appeal against its suspension" : "request to create API keys without a verified phone number").

                The reason given: \(reason)

                You can verify a phone number, or file a new request: \(publicURL)/support
                """)
        return decided
    }

    static func outcome(_ decision: SupportDecision, id: String) throws -> SupportRequest {
        switch decision {
        case .decided(let request): return request
        case .notOpen(let status): throw DomainError.supportRequestNotOpen(status)
        case .notFound: throw DomainError.supportRequestNotFound(id)
        }
    }

    /// Emails every owner; a failure is logged, since the decision stands either way.
    func mailOwners(of organization: OrganizationID, subject: String, text: String) async {
        guard let members = try? await accounts.members(of: organization) else { return }
        for member in members where member.role == .owner {
            do {
                try await email.send(EmailMessage(to: member.user.email, subject: subject, text: text))
            } catch {
                logger.warning(
                    "support email not sent",
                    metadata: ["organization_id": .string(organization.rawValue), "error.type": "\(type(of: error))"])
            }
        }
    }
}
