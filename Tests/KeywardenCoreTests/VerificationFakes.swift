import Foundation
import KeywardenCore
import PhoneNumbers
import Synchronization

/// An SMS sender that keeps every message instead of sending it, and fails as a provider
/// outage does while `failing` is set.
final class RecordingSMS: Sendable {
    private let messages = Mutex<[SMSMessage]>([])
    /// When set, every send fails.
    let failing = Mutex(false)

    /// Local codes carried by this sender.
    var delivery: CodeDelivery {
        .local(
            SMSSender(name: "recording") { message in
                if self.failing.withLock({ $0 }) { throw ProviderError(provider: "recording", detail: "down") }
                self.messages.withLock { $0.append(message) }
                return SMSReceipt(providerMessageID: "SM\(message.verificationID.rawValue)", delivery: .queued)
            })
    }

    /// Every message sent, oldest first.
    var sent: [SMSMessage] { messages.withLock { $0 } }

    /// The code in the latest message for the verification.
    func code(for verification: PhoneVerificationID) -> String? {
        guard let body = sent.last(where: { $0.verificationID == verification })?.body else { return nil }
        return body.split(separator: " ").map { $0.trimmingCharacters(in: .punctuationCharacters) }
            .first { $0.count == 6 && $0.allSatisfy(\.isNumber) }
    }
}

/// A provider that owns the codes, as Twilio Verify does: it accepts one code and remembers every
/// start and check.
final class RecordingVerifier: Sendable {
    /// The one code it accepts.
    let acceptedCode: String
    private let startLog = Mutex<[String]>([])
    private let checkLog = Mutex<[String]>([])

    /// A provider that accepts `acceptedCode`.
    init(acceptedCode: String) {
        self.acceptedCode = acceptedCode
    }

    /// The E.164 numbers verifications were started for, oldest first.
    var starts: [String] { startLog.withLock { $0 } }

    /// The checks asked for, oldest first, each as the E.164 number, a space and the code.
    var checks: [String] { checkLog.withLock { $0 } }

    /// Codes made and checked by this provider.
    var delivery: CodeDelivery {
        .remote(
            RemoteVerifier(
                name: "recording",
                start: { number, _ in
                    self.startLog.withLock { $0.append(number) }
                    return SMSReceipt(providerMessageID: "VE\(number)", delivery: .queued)
                },
                check: { number, code in
                    self.checkLog.withLock { $0.append("\(number) \(code)") }
                    return code == self.acceptedCode
                }))
    }
}

extension LineTypeLookup {
    /// A lookup that answers `type` for every number; `nil` says it cannot tell.
    static func answering(_ type: PhoneNumberType?) -> LineTypeLookup {
        LineTypeLookup(name: "fixed") { _ in type }
    }

    /// A lookup whose provider is down.
    static let failing = LineTypeLookup(name: "down") { _ in
        throw ProviderError(provider: "lookup", detail: "down")
    }
}
