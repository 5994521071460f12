import Testing

@testable import KeywardenCore

@Suite("API key format")
struct APIKeyFormatTests {
    let format = APIKeyFormat()

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test(arguments: APIKeyFormat.Kind.allCases)
    func generatedKeysReadBackAsTheirKind(_ kind: APIKeyFormat.Kind) {
        let key = format.generate(kind)
        #expect(key.hasPrefix("sk-\(kind.rawValue)-"))
        #expect(key.count == "sk-\(kind.rawValue)-".count + 38)
        #expect(format.read(key) == .valid(kind))
        #expect(format.redacted(key) == "sk-\(kind.rawValue)-..." + key.suffix(4))
    }

    @Test func everySingleCharacterChangeIsCaughtByTheChecksum() {
        let key = Array(format.generate(.project).utf8)
        var caught = 0
        var tried = 0
        for position in "sk-proj-".count..<key.count {
            for replacement in SecureRandom.base62 where replacement != key[position] {
                var changed = key
                changed[position] = replacement
                tried += 1
                if format.read(String(decoding: changed, as: UTF8.self)) == .badChecksum { caught += 1 }
            }
        }
        #expect(caught == tried)
    }

    @Test(arguments: ["", "sk", "hello-world", "sk-proj-abc def", "pk-proj-" + String(repeating: "a", count: 38)])
    func nonKeysAreMalformed(_ text: String) {
        #expect(format.read(text) == .malformed)
    }

    @Test func otherSystemsKeysAreForeignAndLookedUpByHash() {
        #expect(format.read("sk-abcdefghijklmnopqrstuvwxyz012345") == .foreign)
        #expect(format.read("sk-proj-short") == .foreign)
    }

    @Test func theStemIsConfigurable() {
        let custom = APIKeyFormat(stem: "kw")
        let key = custom.generate(.admin)
        #expect(key.hasPrefix("kw-admin-"))
        #expect(custom.read(key) == .valid(.admin))
        #expect(format.read(key) == .malformed)
    }

    @Test func permissionsRoundTripThroughStorage() throws {
        let restricted = try KeyPermissions(name: "restricted", scopes: ["model.request", "api.files.read"])
        #expect(KeyPermissions(stored: restricted.stored) == restricted)
        #expect(throws: DomainError.self) { try KeyPermissions(name: "restricted", scopes: []) }
        #expect(throws: DomainError.self) { try KeyPermissions(name: "restricted", scopes: ["files.delete"]) }
        #expect(throws: DomainError.self) { try KeyPermissions(name: "superuser", scopes: nil) }
        #expect(throws: DomainError.self) { try KeyPermissions(name: "all", scopes: ["model.request"]) }
    }
}
