import Foundation
import KeywardenCore
import Testing

@Suite("IP addresses and the ranges a key accepts calls from")
struct IPRangeTests {
    /// The normalised text of `text` read as a range, or the refusal.
    func read(_ text: String) -> Result<String, IPRange.Refusal> {
        IPRange.parse(text).map(\.description)
    }

    /// The refusal of an address with bits set past its prefix, naming the whole `range` and the
    /// one `address`.
    func hostBitsSet(_ range: String, _ address: String) throws -> Result<String, IPRange.Refusal> {
        .failure(.hostBitsSet(range: try #require(IPRange(range)), address: try #require(IPAddress(address))))
    }

    @Test func ipv4AddressesAndRangesAreNormalised() {
        #expect(read("198.51.100.7") == .success("198.51.100.7"))
        #expect(read("198.51.100.7/32") == .success("198.51.100.7"))
        #expect(read("203.0.113.0/24") == .success("203.0.113.0/24"))
        #expect(read("0.0.0.0/0") == .success("0.0.0.0/0"))
        #expect(read("128.0.0.0/1") == .success("128.0.0.0/1"))
    }

    @Test func anAddressWithBitsSetPastItsPrefixIsRefusedNamingTheRangeAndTheAddress() throws {
        #expect(try read("203.0.113.99/24") == hostBitsSet("203.0.113.0/24", "203.0.113.99"))
        #expect(try read("10.1.2.3/8") == hostBitsSet("10.0.0.0/8", "10.1.2.3"))
        #expect(try read("255.255.255.255/1") == hostBitsSet("128.0.0.0/1", "255.255.255.255"))
        #expect(try read("203.0.113.7/2") == hostBitsSet("192.0.0.0/2", "203.0.113.7"))
        #expect(try read("1.2.3.4/0") == hostBitsSet("0.0.0.0/0", "1.2.3.4"))
        #expect(try read("2001:db8:ffff::/33") == hostBitsSet("2001:db8:8000::/33", "2001:db8:ffff::"))
        #expect(try read("2001:db8::1/64") == hostBitsSet("2001:db8::/64", "2001:db8::1"))
        // An IPv4-mapped address under a wide prefix is offered as the IPv4 address it carries.
        #expect(try read("::ffff:10.0.0.5/64") == hostBitsSet("::/64", "10.0.0.5"))
        // A plain address has no bits past its prefix.
        #expect(read("10.0.0.5") == .success("10.0.0.5"))
        #expect(read("2001:db8::1") == .success("2001:db8::1"))
    }

    @Test func ipv6AddressesAndRangesAreWrittenInTheirCanonicalForm() {
        #expect(read("2001:db8::/32") == .success("2001:db8::/32"))
        #expect(read("2001:DB8:0:0:0:0:0:1") == .success("2001:db8::1"))
        #expect(read("2001:0db8:0000:0000:0000:0000:0000:0001/128") == .success("2001:db8::1"))
        #expect(read("2001:db8:8000::/33") == .success("2001:db8:8000::/33"))
        #expect(read("::/0") == .success("::/0"))
        #expect(read("::1") == .success("::1"))
        #expect(read("fe80::1:0:0:1") == .success("fe80::1:0:0:1"))
        // The first of two equal runs of zeros is the one shortened; a single zero group is not.
        #expect(read("2001:db8:0:0:1:0:0:1") == .success("2001:db8::1:0:0:1"))
        #expect(read("2001:db8:0:1:1:1:1:1") == .success("2001:db8:0:1:1:1:1:1"))
        // A dotted IPv4 tail stands for the last two groups.
        #expect(read("64:ff9b::192.0.2.33") == .success("64:ff9b::c000:221"))
    }

    @Test(arguments: [
        "300.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "01.2.3.4", "1.2.3.4 ", "", "/24", "a.b.c.d",
        "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::g", "fe80::1%eth0", "[::1]",
        "1.2.3.4:80", "2001:db8::1:", ":2001:db8::1", "1:2:3:4:5:6:7::8", "::1.2.3", "::1.2.3.4:5",
    ])
    func textThatIsNotAnAddressIsRefused(_ text: String) {
        #expect(read(text) == .failure(.notAnAddress), "\(text)")
    }

    @Test func prefixesPastTheFamilysLengthOrNotWholeNumbersAreRefused() {
        #expect(read("1.2.3.4/33") == .failure(.prefixTooLong(maximum: 32)))
        #expect(read("2001:db8::/129") == .failure(.prefixTooLong(maximum: 128)))
        #expect(read("1.2.3.4/") == .failure(.malformedPrefix))
        #expect(read("1.2.3.4/024") == .failure(.malformedPrefix))
        #expect(read("1.2.3.4/-1") == .failure(.malformedPrefix))
        #expect(read("1.2.3.4/1000") == .failure(.malformedPrefix))
        #expect(read("1.2.3.4/24/8") == .failure(.malformedPrefix))
        #expect(read("1.2.3.4/32") == .success("1.2.3.4"))
        #expect(read("::/128") == .success("::"))
    }

    @Test func ipv4MappedRangesAreRefusedInFavourOfTheirIPv4Form() {
        #expect(read("::ffff:1.2.3.4/120") == .failure(.ipv4Mapped))
        #expect(read("::ffff:1.2.3.4") == .failure(.ipv4Mapped))
        #expect(read("::ffff:0:0/96") == .failure(.ipv4Mapped))
        // A wider range is about IPv6 callers and stays.
        #expect(read("::/64") == .success("::/64"))
    }

    @Test func anIPv4MappedPeerMatchesTheIPv4RangeAndNoIPv6One() throws {
        let mapped = try #require(IPAddress("::ffff:203.0.113.7"))
        #expect(mapped.family == .ipv4)
        #expect(mapped.description == "203.0.113.7")
        let ranges = try AllowedIPRanges(parsing: ["203.0.113.0/24"])
        #expect(ranges.admits("::ffff:203.0.113.7"))
        #expect(ranges.admits("::FFFF:203.0.113.200"))
        #expect(!ranges.admits("::ffff:203.0.114.7"))
        #expect(!(try AllowedIPRanges(parsing: ["::/0"])).admits("::ffff:203.0.113.7"))
        #expect(try AllowedIPRanges(parsing: ["::/0"]).admits("2001:db8::1"))
    }

    @Test func prefixZeroAdmitsTheWholeFamilyAndAFullPrefixOneAddress() throws {
        let everyIPv4 = try AllowedIPRanges(parsing: ["0.0.0.0/0"])
        #expect(everyIPv4.admits("1.2.3.4"))
        #expect(everyIPv4.admits("255.255.255.255"))
        #expect(!everyIPv4.admits("::1"))
        let one = try AllowedIPRanges(parsing: ["198.51.100.7/32", "2001:db8::1/128"])
        #expect(one.admits("198.51.100.7"))
        #expect(!one.admits("198.51.100.8"))
        #expect(one.admits("2001:db8:0::1"))
        #expect(!one.admits("2001:db8::2"))
    }

    @Test func noRangesAdmitAnyAddressAndRangesRefuseAnUnknownOrUnreadableOne() throws {
        let any = try AllowedIPRanges(parsing: [])
        #expect(any == .any)
        #expect(any.allowsAnyAddress)
        #expect(any.admits(nil))
        #expect(any.admits("not an address"))
        let some = try AllowedIPRanges(parsing: ["10.0.0.0/8"])
        #expect(!some.admits(nil))
        #expect(!some.admits("localhost"))
        #expect(!some.admits("127.0.0.1"))
        #expect(some.admits("10.200.3.4"))
    }

    @Test func entriesAreTrimmedNormalisedAndRepeatsDropped() throws {
        let ranges = try AllowedIPRanges(parsing: [" 203.0.113.0/24", "203.0.113.0/24\n", "2001:DB8::/32", "10.0.0.1"])
        #expect(ranges.texts == ["203.0.113.0/24", "2001:db8::/32", "10.0.0.1"])
        #expect(ranges.stored == "203.0.113.0/24,2001:db8::/32,10.0.0.1")
        #expect(AllowedIPRanges(stored: ranges.stored) == ranges)
        #expect(AllowedIPRanges(stored: "") == .any)
        #expect(AllowedIPRanges(stored: "10.0.0.0/8,nonsense") == nil)
    }

    @Test func thirtyTwoEntriesAreAcceptedAndThirtyThreeRefusedNamingTheField() async throws {
        let entries = (0..<33).map { "10.0.\($0).0/24" }
        #expect(try AllowedIPRanges(parsing: Array(entries.prefix(32))).ranges.count == 32)
        let refused = try #require(await refusalError { try AllowedIPRanges(parsing: entries) })
        #expect(refused.code == .invalidValue)
        #expect(refused.param == "allowed_ips")
        #expect(refused.message.contains("32"))
    }

    @Test func aBadEntryIsRefusedQuotingIt() async throws {
        for (entry, words) in [
            ("300.1.1.1", "is not an IP address"), ("1.2.3.4/33", "/32"), ("::ffff:1.2.3.4/120", "IPv4-mapped"),
            ("10.0.0.5/8", "bits set past its /8 prefix"),
            ("2001:db8::1/32", "write 2001:db8::/32 for the whole range or 2001:db8::1/128 for the one address."),
            ("", "empty"), ("  ", "empty"),
        ] {
            let refused = try #require(await refusalError { try AllowedIPRanges(parsing: ["10.0.0.0/8", entry]) })
            #expect(refused.code == .invalidValue, "\(entry)")
            #expect(refused.param == "allowed_ips", "\(entry)")
            #expect(refused.message.contains(words), "\(entry): \(refused.message)")
            if !entry.trimmingWhitespace().isEmpty { #expect(refused.message.contains("'\(entry)'")) }
        }
    }

    @Test func anEntryWithBitsPastItsPrefixIsRefusedOfferingTheRangeAndTheAddress() async throws {
        let refused = try #require(await refusalError { try AllowedIPRanges(parsing: [" 10.0.0.5/8"]) })
        #expect(refused.code == .invalidValue)
        #expect(refused.param == "allowed_ips")
        #expect(
            refused.message
                == "'10.0.0.5/8' has bits set past its /8 prefix; "
                + "write 10.0.0.0/8 for the whole range or 10.0.0.5/32 for the one address.")
    }

    @Test func rangesWithinRangesAreTold() throws {
        let wide = try AllowedIPRanges(parsing: ["10.0.0.0/8", "2001:db8::/32"])
        #expect(try AllowedIPRanges(parsing: ["10.1.0.0/16", "2001:db8:1::/48"]).isWithin(wide))
        #expect(!(try AllowedIPRanges(parsing: ["10.0.0.0/7"])).isWithin(wide))
        #expect(!(try AllowedIPRanges(parsing: ["11.0.0.1"])).isWithin(wide))
        #expect(!AllowedIPRanges.any.isWithin(wide))
        #expect(wide.isWithin(.any))
    }
}
