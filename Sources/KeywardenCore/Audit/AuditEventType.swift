/// What an audit event records. The raw value is the event's `type` in the API, as in OpenAI's
/// audit log: the thing acted on, a dot, what happened to it.
public enum AuditEventType: String, Sendable, CaseIterable, Codable {
    case phoneVerificationStarted = "phone_verification.started"
    case phoneVerificationResent = "phone_verification.resent"
    case phoneVerificationApproved = "phone_verification.approved"
    /// With `reason`.
    case phoneVerificationFailed = "phone_verification.failed"
    case phoneVerificationExpired = "phone_verification.expired"
    /// A newer approved verification took the place of an older one.
    case organizationVerificationReplaced = "organization.verification_replaced"
    /// By the operator.
    case organizationVerificationReset = "organization.verification_reset"
    /// By the operator.
    case organizationRateLimitTierUpdated = "organization.rate_limit_tier_updated"
    /// Renamed by an owner; with the new `name`.
    case organizationUpdated = "organization.updated"
    /// A member asked for help verifying (`support_request.created`).
    case supportRequestCreated = "support_request.created"
    /// An operator approved it: the organization is exempt.
    case supportRequestApproved = "support_request.approved"
    /// An operator declined it, with a reason.
    case supportRequestDeclined = "support_request.declined"
    /// An operator suspended the organization.
    case organizationSuspended = "organization.suspended"
    /// An operator lifted the suspension.
    case organizationUnsuspended = "organization.unsuspended"
    case loginSucceeded = "login.succeeded"
    case loginFailed = "login.failed"
    case logoutSucceeded = "logout.succeeded"
    case projectCreated = "project.created"
    case projectUpdated = "project.updated"
    case projectArchived = "project.archived"
    case apiKeyCreated = "api_key.created"
    case apiKeyRotated = "api_key.rotated"
    /// A key's settings changed; with `changed`, the API names of the changed fields separated
    /// by commas (`name`, `permissions`, `scopes`, `allowed_ips`).
    case apiKeyUpdated = "api_key.updated"
    /// A key was disabled: refused until it is enabled again.
    case apiKeyDisabled = "api_key.disabled"
    /// A disabled key was enabled again.
    case apiKeyEnabled = "api_key.enabled"
    case apiKeyDeleted = "api_key.deleted"
    /// Found in public by GitHub's secret scanning and revoked at once; with `url`, `source` and
    /// `reported_by`, besides the key's `id`, `name`, `redacted_value` and `project_id`.
    case apiKeyLeaked = "api_key.leaked"
    case adminAPIKeyCreated = "admin_api_key.created"
    case adminAPIKeyRotated = "admin_api_key.rotated"
    case adminAPIKeyDeleted = "admin_api_key.deleted"
    case serviceAccountCreated = "service_account.created"
    /// A project's own rate limits.
    case rateLimitUpdated = "rate_limit.updated"
    /// An organization's or project's monthly budget; with `project_id` for a project's,
    /// `monthly_budget_micros` (or `none`), `hard_limit` and `alert_percents`.
    case spendLimitUpdated = "spend_limit.updated"
    /// A budget's alert threshold was reached and the owners were mailed; with `percent`,
    /// `spent_micros`, `monthly_budget_micros` and `project_id` for a project's.
    case spendAlertSent = "spend_alert.sent"
    /// A further organization, with its `name`; recorded in the new organization.
    case organizationCreated = "organization.created"
    /// An invite was emailed (again, with `resent`), with its `id`, `email`, `role` and `projects`.
    case inviteSent = "invite.sent"
    /// The invited person joined.
    case inviteAccepted = "invite.accepted"
    /// Revoked by an owner, or replaced by a newer invite to the same address (`reason`).
    case inviteDeleted = "invite.deleted"
    /// A person joined the organization, with their `id` and `role`.
    case userAdded = "user.added"
    /// A member's role changed, with `id`, `role` and `previous_role`.
    case userUpdated = "user.updated"
    /// A member was removed or left, with `id`.
    case userDeleted = "user.deleted"
    /// A person was added to a project, with `project_id`, `id` and `role`.
    case projectUserAdded = "project.user.added"
    /// A person's role in a project changed.
    case projectUserUpdated = "project.user.updated"
    /// A person was removed from a project.
    case projectUserDeleted = "project.user.deleted"
    /// The person opened the confirmation link mailed to their address.
    case userEmailConfirmed = "user.email_confirmed"
    /// A new password set with a reset link; with `sessions_ended`.
    case userPasswordReset = "user.password_reset"
    /// The signed-in person changed their password; with `sessions_ended`.
    case userPasswordChanged = "user.password_changed"
    /// The person ended one of their other sessions (`session_id`) or all of them (`session_ids`).
    case sessionRevoked = "session.revoked"
    /// The person turned two-factor authentication on.
    case mfaEnabled = "mfa.enabled"
    /// The person turned two-factor authentication off, with a current code.
    case mfaDisabled = "mfa.disabled"
    /// The person made ten new recovery codes; the old ones stopped working.
    case mfaRecoveryCodesRegenerated = "mfa.recovery_codes_regenerated"
    /// A recovery code was used to sign in or confirm; with `remaining`.
    case mfaRecoveryCodeUsed = "mfa.recovery_code_used"
    /// A code from the authenticator app or a recovery code was wrong; with `purpose`.
    case mfaFailed = "mfa.failed"
    /// The person confirmed it was them (password or code) for a sensitive action; with `method`.
    case sessionReauthenticated = "session.reauthenticated"
    /// A card was saved; with `payment_method_id`, brand and last four digits.
    case billingPaymentMethodAdded = "billing.payment_method_added"
    /// A card was removed; with `payment_method_id`.
    case billingPaymentMethodRemoved = "billing.payment_method_removed"
    /// A card could not be saved; with `reason`.
    case billingPaymentMethodRefused = "billing.payment_method_refused"
    /// Credits were bought; with `purchase_id`, `amount_micros` and `trigger`.
    case billingCreditsPurchased = "billing.credits_purchased"
    /// A purchase failed and nothing was credited; with `purchase_id` and `reason`.
    case billingPurchaseFailed = "billing.purchase_failed"
    /// Auto-recharge settings changed; with the new values.
    case billingAutoRechargeUpdated = "billing.auto_recharge_updated"
    /// A purchase was refunded at the provider and its credit taken back; with `purchase_id`
    /// and `amount_micros`.
    case billingCreditsRefunded = "billing.credits_refunded"
    /// The operator granted credits; with `amount_micros`.
    case billingCreditsGranted = "billing.credits_granted"
    /// A key's use was unusual and the owners were mailed; with `key_alert_id`, `api_key_id`,
    /// `kind` (`call_spike`, `error_spike`, `idle_key_used`), `observed`, `baseline`, `project_id`
    /// and, for an idle key used, `idle_since`.
    case apiKeyAlertSent = "api_key.alert_sent"
    /// A member dismissed a key's alert; with `key_alert_id`, `api_key_id`, `kind` and `project_id`.
    case apiKeyAlertDismissed = "api_key.alert_dismissed"
}
