import Foundation
import KeywardenCore
import Synchronization

/// A payment provider a test scripts: it remembers every call, answers card pages and charges
/// as told, and fails as an outage does for the operations a test names.
///
/// Like Stripe, a charge sent again with an idempotency key it has seen answers the first
/// charge instead of making another, and a charge's id is the same for every such request.
final class FakePaymentProvider: PaymentProvider {
    /// What the provider is asked to do, for making one kind of call fail.
    enum Operation: Sendable, Hashable {
        case createCustomer, startSetup, setupState, charge, chargeState, cancelCharge, detach
    }

    /// How a new charge turns out.
    enum ChargeOutcome: Sendable, Equatable {
        /// Charged at once.
        case succeed
        /// Declined, with the provider's sentence.
        case decline(String)
        /// The bank asks the person to confirm.
        case requireAction
        /// Not decided yet.
        case process
    }

    /// A customer asked for.
    struct CustomerRequest: Sendable, Equatable {
        var organization: OrganizationID
        var name: String
        var idempotencyKey: String
    }

    /// A card page opened.
    struct SetupRequest: Sendable, Equatable {
        var customer: String
        var setup: BillingSetupID
        var returnURL: String
        var cancelURL: String
    }

    private struct State {
        var customers: [CustomerRequest] = []
        var setups: [SetupRequest] = []
        var charges: [ProviderCharge] = []
        var chargeStateReads: [String] = []
        var detached: [String] = []
        var canceled: [String] = []
        var failing: Set<Operation> = []
        var setupStates: [String: ProviderSetupState] = [:]
        var chargeOutcome: ChargeOutcome = .succeed
        /// Each charge's state by its reference, and the reference by idempotency key.
        var chargeStates: [String: ProviderChargeState] = [:]
        var chargeByKey: [String: String] = [:]
    }

    let name = "fake"
    let isTestMode: Bool
    private let state = Mutex(State())

    /// A provider that says whether it is in test mode as `testMode`.
    init(testMode: Bool = false) {
        isTestMode = testMode
    }

    // MARK: Scripting

    /// Makes every call of `operation` throw ``PaymentProviderError`` until ``recover(_:)``.
    func fail(_ operation: Operation) {
        state.withLock { _ = $0.failing.insert(operation) }
    }

    /// Makes `operation` answer again.
    func recover(_ operation: Operation) {
        state.withLock { _ = $0.failing.remove(operation) }
    }

    /// How the card page with this reference has ended, from now on; pages not told are `open`.
    func answerSetup(_ reference: String, with setupState: ProviderSetupState) {
        state.withLock { $0.setupStates[reference] = setupState }
    }

    /// How new charges turn out from now on (they succeed until told otherwise).
    func answerCharges(with outcome: ChargeOutcome) {
        state.withLock { $0.chargeOutcome = outcome }
    }

    /// Moves a charge the provider made to `outcome`, as the bank's later answer does.
    func settleCharge(_ reference: String, as outcome: ChargeOutcome) {
        state.withLock { $0.chargeStates[reference] = Self.answer(for: reference, outcome) }
    }

    // MARK: What tests read back

    /// Customers asked for, oldest first.
    var customers: [CustomerRequest] { state.withLock { $0.customers } }
    /// Card pages opened, oldest first.
    var setups: [SetupRequest] { state.withLock { $0.setups } }
    /// Every charge asked for, answered or not, oldest first.
    var charges: [ProviderCharge] { state.withLock { $0.charges } }
    /// The charges whose state was asked for, by reference, oldest first.
    var chargeStateReads: [String] { state.withLock { $0.chargeStateReads } }
    /// The cards the provider was told to forget, by reference.
    var detached: [String] { state.withLock { $0.detached } }
    /// Charges asked to be cancelled, oldest first.
    var canceled: [String] { state.withLock { $0.canceled } }

    /// The charge id the provider gives the charge with this idempotency key.
    static func reference(forKey idempotencyKey: String) -> String { "pi_\(idempotencyKey)" }

    /// Where the person confirms the charge with this id.
    static func actionURL(of reference: String) -> String { "https://pay.example/confirm/\(reference)" }

    // MARK: PaymentProvider

    func createCustomer(organization: OrganizationID, name: String, idempotencyKey: String) async throws -> String {
        try record(.createCustomer) {
            $0.customers.append(CustomerRequest(organization: organization, name: name, idempotencyKey: idempotencyKey))
            return "cus_\(organization.rawValue)"
        }
    }

    func startSetup(
        customer: String, setup: BillingSetupID, currency: BillingCurrency, returnURL: String, cancelURL: String
    ) async throws -> ProviderSetupPage {
        try record(.startSetup) {
            $0.setups.append(SetupRequest(customer: customer, setup: setup, returnURL: returnURL, cancelURL: cancelURL))
            let reference = "cs_\(setup.rawValue)"
            return ProviderSetupPage(reference: reference, url: "https://pay.example/setup/\(reference)")
        }
    }

    func setupState(reference: String) async throws -> ProviderSetupState {
        try record(.setupState) { $0.setupStates[reference] ?? .open }
    }

    func charge(_ charge: ProviderCharge) async throws -> ProviderChargeState {
        // The request is kept before an outage is decided, so a test sees a charge that got no answer.
        state.withLock { $0.charges.append(charge) }
        return try record(.charge) { state in
            if let earlier = state.chargeByKey[charge.idempotencyKey], let answer = state.chargeStates[earlier] {
                return answer
            }
            let reference = Self.reference(forKey: charge.idempotencyKey)
            let answer = Self.answer(for: reference, state.chargeOutcome)
            state.chargeByKey[charge.idempotencyKey] = reference
            state.chargeStates[reference] = answer
            return answer
        }
    }

    func chargeState(reference: String) async throws -> ProviderChargeState {
        try record(.chargeState) { state in
            state.chargeStateReads.append(reference)
            guard let answer = state.chargeStates[reference] else {
                throw PaymentProviderError("fake: no charge \(reference)")
            }
            return answer
        }
    }

    func cancelCharge(reference: String) async throws {
        try record(.cancelCharge) { state in
            state.canceled.append(reference)
            if case .requiresAction = state.chargeStates[reference] {
                state.chargeStates[reference] = .failed(reference: reference, message: "The payment was canceled.")
            }
        }
    }

    func detach(paymentMethod reference: String) async throws {
        try record(.detach) { $0.detached.append(reference) }
    }

    /// Runs `body` on the state unless `operation` was made to fail.
    private func record<Value: Sendable>(
        _ operation: Operation, _ body: (inout State) throws -> Value
    ) throws -> Value {
        try state.withLock { state in
            guard !state.failing.contains(operation) else {
                throw PaymentProviderError("fake: \(operation) is down")
            }
            return try body(&state)
        }
    }

    private static func answer(for reference: String, _ outcome: ChargeOutcome) -> ProviderChargeState {
        switch outcome {
        case .succeed: .succeeded(reference: reference)
        case .decline(let message): .failed(reference: reference, message: message)
        case .requireAction: .requiresAction(reference: reference, url: actionURL(of: reference))
        case .process: .processing(reference: reference)
        }
    }
}
