import Foundation

/// The refusals of support requests, suspension and the operator console.
extension DomainError {
    /// The organization is suspended: its keys are refused and it cannot make new ones.
    public static func organizationSuspended(reason: String) -> DomainError {
        DomainError(
            .forbidden, code: .organizationSuspended,
            message:
                "This organization is suspended: \(reason) To appeal, an owner can reply from the Support page (/support) of the dashboard."
        )
    }

    /// The organization has an open request already.
    public static let supportRequestExists = DomainError(
        .conflict, code: .supportRequestExists,
        message: "This organization already has an open support request; an operator will answer it.")

    /// No support request with that id (or not one the caller may see).
    public static func supportRequestNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .supportRequestNotFound, message: "No support request with id '\(id)'.", param: "id")
    }

    /// The request was decided already.
    public static func supportRequestNotOpen(_ status: SupportRequest.Status) -> DomainError {
        DomainError(
            .conflict, code: .supportRequestNotOpen,
            message: "This support request is \(status.rawValue) already; only open requests can be decided.")
    }

    /// The caller is not an operator.
    public static let operatorRequired = DomainError(
        .forbidden, code: .operatorRequired,
        message:
            "Only operators can use the operator console. An operator is granted with 'keywarden admin operator grant EMAIL'."
    )

    /// The operator has not turned two-factor authentication on.
    public static let operatorNeedsTwoFactor = DomainError(
        .forbidden, code: .mfaRequired,
        message:
            "Operators must turn on two-factor authentication before the console opens: Settings → Security → Two-factor authentication."
    )

    /// Numbers with this prefix are blocked by the operator.
    public static let phonePrefixBlocked = DomainError(
        .invalidRequest, code: .phonePrefixBlocked,
        message:
            "Verification codes cannot be sent to numbers like this one. If it is your only number, choose “Can't verify your phone?” to ask for help.",
        param: "phone_number")
}
