import Foundation
import KeywardenCore
import Testing

@Suite("The permission matrix")
struct PermissionMatrixTests {
    /// Who asks, by organization role and role in the project.
    enum Person: String, CaseIterable, CustomTestStringConvertible {
        case organizationOwner, projectOwner, projectMember, projectViewer, outsider

        var testDescription: String { rawValue }
    }

    /// What they ask to do, in the project where there is one.
    enum Action: String, CaseIterable {
        case readOrganization, readProject, createKey, changeOwnKey, changeOthersKey, manageProject
        case createProject, manageMembers, manageAdminKeys, renameOrganization, verifyPhone, readAuditLog
    }

    static let project = ProjectID(unchecked: "proj_matrix")
    static let me = UserID(unchecked: "user_me")
    static let someoneElse = UserID(unchecked: "user_other")

    func membership(_ person: Person) -> Membership {
        let organization = Organization(id: .generate(), name: "Org", isPersonal: false, createdAt: Date())
        let roles: [ProjectID: ProjectRole] =
            switch person {
            case .organizationOwner, .outsider: [:]
            case .projectOwner: [Self.project: .owner]
            case .projectMember: [Self.project: .member]
            case .projectViewer: [Self.project: .viewer]
            }
        return Membership(
            organization: organization, role: person == .organizationOwner ? .owner : .reader, addedAt: Date(),
            projectRoles: roles)
    }

    func key(ownedBy owner: UserID) -> APIKey {
        APIKey(
            id: .generate(), kind: .project, organizationID: OrganizationID(unchecked: "org_matrix"),
            projectID: Self.project, name: "", owner: .user(owner), permissions: .all, digest: "", redactedValue: "",
            createdAt: Date())
    }

    /// What the services answer, in the order they check: `ok`, or the refusal's code.
    func outcome(of action: Action, by membership: Membership) -> String {
        do {
            let project = Self.project.rawValue
            switch action {
            case .readOrganization: try membership.require(.readOrganization)
            case .readProject: try membership.require(.read, in: project)
            case .createKey: try membership.require(.createKeys, in: project)
            case .changeOwnKey, .changeOthersKey:
                try membership.require(.changeOwnKeys, in: project)
                let owner = action == .changeOwnKey ? Self.me : Self.someoneElse
                try membership.requireChange(of: key(ownedBy: owner), by: Self.me)
            case .manageProject: try membership.require(.manage, in: project)
            case .createProject: try membership.require(.createProjects)
            case .manageMembers: try membership.require(.manageMembers)
            case .manageAdminKeys: try membership.require(.manageAdminKeys)
            case .renameOrganization: try membership.require(.renameOrganization)
            case .verifyPhone: try membership.require(.verifyPhone)
            case .readAuditLog: try membership.require(.readAuditLog)
            }
            return "ok"
        } catch let refusal as DomainError {
            return refusal.code.rawValue
        } catch {
            return "\(error)"
        }
    }

    /// The matrix: what each person may do. Anything not listed is refused with
    /// `insufficient_permissions`, except that an outsider is not told the project exists.
    static let allowed: [Person: Set<Action>] = [
        .organizationOwner: Set(Action.allCases),
        .projectOwner: [.readOrganization, .readProject, .createKey, .changeOwnKey, .changeOthersKey, .manageProject],
        .projectMember: [.readOrganization, .readProject, .createKey, .changeOwnKey],
        .projectViewer: [.readOrganization, .readProject],
        .outsider: [.readOrganization],
    ]

    static let projectActions: Set<Action> = [
        .readProject, .createKey, .changeOwnKey, .changeOthersKey, .manageProject,
    ]

    @Test(arguments: Person.allCases)
    func eachPersonMayDoExactlyWhatTheirRolesAllow(_ person: Person) {
        let membership = membership(person)
        for action in Action.allCases {
            let expected: String =
                if Self.allowed[person, default: []].contains(action) {
                    "ok"
                } else if person == .outsider, Self.projectActions.contains(action) {
                    "project_not_found"
                } else {
                    "insufficient_permissions"
                }
            #expect(outcome(of: action, by: membership) == expected, "\(person) \(action)")
        }
    }

    @Test func organizationOwnersOwnEveryProjectAndReadersOnlyThoseTheyWereAddedTo() throws {
        let owner = membership(.organizationOwner)
        let other = ProjectID(unchecked: "proj_elsewhere")
        #expect(owner.role(in: other) == .owner)
        #expect(owner.readableProjects == nil)
        let viewer = membership(.projectViewer)
        #expect(viewer.role(in: other) == nil)
        #expect(viewer.readableProjects == [Self.project])
        #expect(throws: DomainError.self) { try viewer.readableProjects(among: [other.rawValue]) }
        #expect(try viewer.readableProjects(among: []) == [Self.project.rawValue])
        #expect(try membership(.outsider).readableProjects(among: []) == [])
        #expect(try owner.readableProjects(among: []) == nil)
    }

    @Test func aRefusalInAProjectSaysTheRoleAndNamesTheProjectParameter() {
        let viewer = membership(.projectViewer)
        let error = #expect(throws: DomainError.self) { try viewer.require(.createKeys, in: Self.project.rawValue) }
        #expect(error?.code == .insufficientPermissions)
        #expect(error?.param == "project_id")
        #expect(error?.message.contains("(viewer)") == true)
    }
}
