import KeywardenCore
import Testing

@Suite("Prefixed identifiers")
struct IdentifierTests {
    @Test func generatedIdsCarryTheirPrefixAndParseBack() {
        let id = ProjectID.generate()
        #expect(id.rawValue.hasPrefix("proj_"))
        #expect(id.rawValue.count == "proj_".count + 24)
        #expect(ProjectID(id.rawValue) == id)
        #expect(ProjectID.generate() != id)
    }

    @Test(arguments: [
        "", "proj_", "org_abc", "proj-abc", "proj_abc!", "proj_ab cd", "proj_" + String(repeating: "a", count: 80),
    ])
    func malformedIdsDoNotParse(_ text: String) {
        #expect(ProjectID(text) == nil)
    }

    @Test func sessionTokensHave256RandomBitsAndAreStoredAsDigests() {
        let token = SessionToken.generate()
        #expect(token.value.hasPrefix("sess_"))
        #expect(token.value.count == "sess_".count + 43)
        #expect(token.digest.count == 64)
        #expect(token.digest != token.value)
        #expect(SessionToken(value: token.value).digest == token.digest)
    }
}
