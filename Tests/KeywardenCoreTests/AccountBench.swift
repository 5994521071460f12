import Foundation
import KeywardenCore
import Synchronization
import Testing

/// Email the account service sends, kept instead of sent; every send fails as a provider outage
/// does while `failing` is set.
final class RecordingMail: Sendable {
    private let messages = Mutex<[EmailMessage]>([])
    /// When set, every send fails.
    let failing = Mutex(false)

    var sender: EmailSender {
        EmailSender(name: "recording") { message in
            if self.failing.withLock({ $0 }) { throw ProviderError(provider: "recording", detail: "down") }
            self.messages.withLock { $0.append(message) }
        }
    }

    /// Every message sent, oldest first.
    var sent: [EmailMessage] { messages.withLock { $0 } }

    /// The messages to `address`, oldest first.
    func sent(to address: String) -> [EmailMessage] {
        sent.filter { $0.to.value == address }
    }

    /// The link to `path` in the latest text body to `address`.
    func link(to address: String, path: String) -> String? {
        guard let text = sent(to: address).last?.text else { return nil }
        return text.split(whereSeparator: \.isWhitespace).map(String.init).first {
            $0.hasPrefix(AccountBench.linkBase + path + "?token=")
        }
    }

    /// The token of the latest link to `path` mailed to `address`.
    func token(to address: String, path: String) -> String? {
        link(to: address, path: path).map { String($0.dropFirst(AccountBench.linkBase.count + path.count + 7)) }
    }
}

extension PasswordHasher {
    /// A hasher without cost, for tests of rules rather than of hashing.
    static let plain = PasswordHasher(
        hash: { password in "plain:" + password }, verify: { password, hash in hash == "plain:" + password })
}

/// The account service over in-memory storage, with recording mail and a clock the test moves.
struct AccountBench {
    /// Where the clock starts: 100 seconds into a day, so into its minute and hour windows too.
    static let opening = Date(timeIntervalSince1970: 1_750_032_100)
    /// The base of every mailed link.
    static let linkBase = "https://keys.example.com"
    /// The password every person signs up with.
    static let password = "correct horse battery"

    let repositories: InMemoryRepositories
    let time: ManualClock
    let mail: RecordingMail
    let service: AccountService

    /// A bench with the default settings changed by `configure`, and `humanCheck` on sign-up.
    init(humanCheck: HumanCheck = .notRequired, settings configure: (inout AccountSettings) -> Void = { _ in }) {
        var settings = AccountSettings()
        configure(&settings)
        let repositories = InMemoryRepositories()
        let time = ManualClock(AccountBench.opening)
        let mail = RecordingMail()
        self.repositories = repositories
        self.time = time
        self.mail = mail
        service = AccountService(
            accounts: repositories.accounts, sessions: repositories.sessions, tokens: repositories.tokens,
            counters: repositories.counters, audit: repositories.audit, hasher: .plain, clock: time.clock,
            settings: settings,
            mail: AccountMail(sender: mail.sender, linkBaseURL: Self.linkBase + "/", logger: quietLogger),
            twoFactor: TwoFactorStore(repository: repositories.twoFactor, serverSecret: "keywarden-core-tests-secret"),
            humanCheck: humanCheck)
    }

    /// Signs a person up now, from `clientAddress`.
    func signUp(
        _ email: String = "ada@example.com", clientAddress: String? = nil, userAgent: String? = nil
    ) async throws -> SignUpResult {
        try await service.signUp(
            email: email, password: Self.password, name: nil, clientAddress: clientAddress, userAgent: userAgent)
    }

    /// Signs the person in again, starting another session.
    func logIn(
        _ email: String = "ada@example.com", password: String = Self.password, clientAddress: String? = nil,
        userAgent: String? = nil
    ) async throws -> SessionToken {
        try #require(
            try await service.logIn(
                email: email, password: password, clientAddress: clientAddress, userAgent: userAgent
            ).session
        ).token
    }

    /// The session a token names while it works; `nil` once it does not.
    func session(_ token: SessionToken) async throws -> AuthenticatedSession? {
        try await service.authenticate(token: token.value)
    }

    /// The user as stored now.
    func user(_ id: UserID) async throws -> User {
        try #require(try await service.user(id))
    }

    /// The types of the audit events written for the organization, oldest first.
    func auditTypes(of organization: OrganizationID) async -> [String] {
        await repositories.database.auditEvents(in: organization).map(\.type.rawValue)
    }
}
