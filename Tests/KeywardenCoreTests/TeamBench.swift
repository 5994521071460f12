import Foundation
import KeywardenCore
import Synchronization
import Testing

/// The team and invite services beside the key service of a ``KeyBench``, over the same
/// in-memory storage and clock, with the email they send kept for the test to read.
struct TeamBench {
    let keys: KeyBench
    let teams: TeamService
    let invites: InviteService
    let mail: SentMail

    /// A bench whose clock shows `date`.
    init(at date: Date = KeyBench.afterEnforcement) {
        let keys = KeyBench(at: date)
        let repositories = keys.repositories
        let mail = SentMail()
        self.keys = keys
        self.mail = mail
        teams = TeamService(
            teams: repositories.teams, projects: repositories.projects, audit: repositories.audit,
            keys: keys.service, clock: keys.time.clock)
        var settings = InviteSettings()
        settings.linkBaseURL = "https://keywarden.example"
        invites = InviteService(
            invites: repositories.invites, accounts: repositories.accounts, projects: repositories.projects,
            audit: repositories.audit, email: mail.sender, settings: settings, clock: keys.time.clock)
    }

    var repositories: InMemoryRepositories { keys.repositories }

    /// Signs a person up now.
    func signUp(_ email: String) async throws -> NewAccount {
        try await keys.signUp(email)
    }

    /// The membership of `person` in the account's organization as it stands now.
    func membership(in account: NewAccount, of person: NewAccount? = nil) async throws -> Membership {
        try await keys.membership(in: account, of: person?.user)
    }

    /// Adds `person` to the account's organization as a reader with `role` in its default
    /// project (none when `nil`).
    func addReader(_ person: NewAccount, to account: NewAccount, projectRole: ProjectRole?) async throws {
        try await keys.add(person, to: account, as: .reader)
        if let projectRole {
            try await repositories.database.addProjectMember(
                person.user.id, to: account.defaultProject.id, role: projectRole, at: keys.time.now)
        }
    }

    /// Makes a further project in the account's organization, through storage.
    func project(named name: String, in account: NewAccount) async throws -> Project {
        let project = Project(
            id: .generate(), organizationID: account.organization.id, name: name, isDefault: false,
            createdAt: keys.time.now)
        try await repositories.projects.create(project)
        return project
    }

    /// A verified organization's key owned by `person`, made in the account's default project.
    func key(in account: NewAccount, ownedBy person: NewAccount) async throws -> IssuedAPIKey {
        try await keys.createKey(in: account, as: person.user)
    }

    /// Whether the index lets `key` through now, as the gateway asks it.
    func works(_ key: IssuedAPIKey) -> Bool {
        if case .valid = keys.service.index.authenticate(key.value, now: keys.time.now) { return true }
        return false
    }

    /// The actor of a person signed in.
    func actor(_ person: NewAccount) -> AuditActor {
        .session(person.user, ipAddress: nil)
    }

    /// Invites `email` to the account's organization as its owner would.
    func invite(
        _ email: String, to account: NewAccount, role: String = "reader", projects: [RequestedGrant] = []
    ) async throws -> Invite {
        try await invites.invite(
            email: email, role: role, projects: projects, in: try await membership(in: account), by: account.user,
            actor: actor(account))
    }
}

/// The email the invite service sent.
final class SentMail: Sendable {
    private let messages = Mutex<[EmailMessage]>([])

    var sender: EmailSender {
        EmailSender(name: "test") { message in self.messages.withLock { $0.append(message) } }
    }

    var sent: [EmailMessage] { messages.withLock { $0 } }

    /// The token of the latest invite link sent to `address`.
    func token(to address: String) -> String? {
        guard let text = sent.last(where: { $0.to.value == address })?.text,
            let range = text.range(of: "/invite?token=")
        else { return nil }
        return String(text[range.upperBound...].prefix { !$0.isWhitespace })
    }
}
