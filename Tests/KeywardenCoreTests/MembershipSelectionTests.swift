import Foundation
import KeywardenCore
import Testing

@Suite("Membership selection and names")
struct MembershipSelectionTests {
    func membership(_ role: OrganizationRole) -> Membership {
        Membership(
            organization: Organization(id: .generate(), name: "Org", isPersonal: false, createdAt: Date()),
            role: role, addedAt: Date())
    }

    @Test func requestedOrganizationIsChosenOtherwiseTheFirst() throws {
        let first = membership(.owner)
        let second = membership(.reader)
        #expect(try Membership.select(from: [first, second], requested: nil) == first)
        #expect(try Membership.select(from: [first, second], requested: second.organization.id.rawValue) == second)
    }

    @Test func unknownOrNoOrganizationIsNotFound() {
        let error = #expect(throws: DomainError.self) {
            try Membership.select(from: [membership(.owner)], requested: "org_other")
        }
        #expect(error?.code == .organizationNotFound)
        #expect(throws: DomainError.self) { try Membership.select(from: [], requested: nil) }
    }

    @Test func displayNamesAreTrimmedAndChecked() throws {
        #expect(try DisplayName.validate("  Search  ", field: "name") == "Search")
        #expect(throws: DomainError.self) { try DisplayName.validate("a\u{7}b", field: "name") }
        #expect(throws: DomainError.self) {
            try DisplayName.validate(String(repeating: "x", count: 257), field: "name")
        }
        let error = #expect(throws: DomainError.self) { try DisplayName.validateRequired(" \n ", field: "name") }
        #expect(error?.code == .missingRequiredParameter)
    }
}
