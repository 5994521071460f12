import KeywardenCore
import Testing

@Suite("EmailAddress")
struct EmailAddressTests {
    @Test func addressIsTrimmedAndLowercased() throws {
        #expect(try EmailAddress(normalizing: "  Ada.Lovelace@Example.COM\n").value == "ada.lovelace@example.com")
    }

    @Test(arguments: [
        "", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "a b@example.com", "ada@.example.com",
        "ada@example.com.", "ada@example..com", "ada\u{0}@example.com",
    ])
    func implausibleAddressesAreRefused(_ input: String) {
        let error = #expect(throws: DomainError.self) { try EmailAddress(normalizing: input) }
        #expect(error?.code == .invalidEmail)
        #expect(error?.param == "email")
    }

    @Test func addressesLongerThan254CharactersAreRefused() {
        let local = String(repeating: "a", count: 64)
        let domain = String(repeating: "d", count: 190) + ".com"
        #expect(throws: DomainError.self) { try EmailAddress(normalizing: "\(local)@\(domain)") }
        #expect(throws: DomainError.self) { try EmailAddress(normalizing: String(repeating: "a", count: 65) + "@x.io") }
    }

    @Test func aCombiningMarkRightAfterTheAtSignDoesNotHideIt() throws {
        // U+1F3FB joins the "@" into one grapheme; the address is still read scalar by scalar.
        #expect(try EmailAddress(normalizing: "ada@\u{1F3FB}.io").value == "ada@\u{1F3FB}.io")
    }

    @Test func lengthsCountCodePointsAsSentAsTheSchemaDoes() {
        let padded = "\t" + String(repeating: "a", count: 60) + "@" + String(repeating: "d", count: 190) + ".com"
        #expect(padded.unicodeScalars.count == 256)
        #expect(throws: DomainError.self) { try EmailAddress(normalizing: padded) }
        #expect(throws: DomainError.self) { try EmailAddress(normalizing: "ada\u{85}@example.com") }
    }
}
