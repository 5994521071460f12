import KeywardenCore

/// What the Support page and the operator console check themselves, and how they say the
/// services' refusals of an empty field, in words for a person at the form.
extension PageSentences {
    // MARK: Support

    /// A reason that is not one the form offers.
    static let supportReason = "Choose a reason from the list."

    /// Details longer than a request keeps.
    static func supportDetailsTooLong(count: Int) -> String {
        "Write at most \(SupportRequest.maxDetailsLength) characters; this has \(count)."
    }

    // MARK: Operator console

    /// A queue filter that is not a status.
    static let queueStatus = "Choose Open, Approved or Declined. The open requests are shown instead."
    /// An insights window that is not one of the three.
    static let insightWindow = "Choose 24 hours, 7 days or 30 days."
    /// A decline without its reason.
    static let declineReasonMissing = "Enter the reason for declining; the organization's owners are told it."
    /// A suspension without its reason.
    static let suspendReasonMissing = "Enter the reason for suspending; the organization's members see it."
    /// A grant without its amount.
    static let grantAmountMissing = "Enter the amount of credit to grant, such as 25.00."
    /// A tier that is not in the list.
    static let tierChoice = "Choose a tier from the list."
    /// A prefix rule without its prefix.
    static let prefixMissing = "Enter a prefix: + and the calling code, and more digits if you like, such as +44."
    /// A prefix rule that is neither safe nor blocked.
    static let ruleKind = "Choose Safe or Blocked."
    /// An organization filter that is not an organization id.
    static let organizationIDFilter = "Enter an organization ID such as org_..., or leave the field empty."
}

extension FieldErrors {
    /// Places `refusal` by its `param` when that is one of `names`, as ``init(_:fields:)`` does,
    /// but says an empty required field with the sentence `missing` has for it.
    init(_ refusal: DomainError, fields names: Set<String>, whenMissing missing: [String: String]) {
        if refusal.code == .missingRequiredParameter, let param = refusal.param, names.contains(param),
            let sentence = missing[param]
        {
            self.init(field: param, sentence: sentence)
        } else {
            self.init(refusal, fields: names)
        }
    }
}
