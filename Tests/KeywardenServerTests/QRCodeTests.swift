import Testing

@testable import KeywardenDashboard

@Suite("QR code")
struct QRCodeTests {
    /// A TOTP enrolment URL of the length the security pages show.
    let enrolmentURL =
        "otpauth://totp/Keywarden:ada%40example.com?secret="
        + String(repeating: "JBSWY3DPEHPK3PXP", count: 3) + "ABCD"
        + "&issuer=Keywarden"

    /// The 15 format bits of the copy around the top-left finder, bit 14 first.
    func formatBitsNearTopLeft(_ code: QRCode) -> Int {
        var positions: [(Int, Int)] = (0...5).map { ($0, 8) }
        positions += [(7, 8), (8, 8), (8, 7)]
        positions += (9..<15).map { (8, 14 - $0) }
        return bits(code, positions)
    }

    /// The 15 format bits of the copy split between the top-right and bottom-left finders.
    func formatBitsSplitCopy(_ code: QRCode) -> Int {
        let size = code.size
        let positions = (0..<8).map { (8, size - 1 - $0) } + (8..<15).map { (size - 15 + $0, 8) }
        return bits(code, positions)
    }

    /// The modules at `positions`, the first being bit 0, as a number.
    func bits(_ code: QRCode, _ positions: [(Int, Int)]) -> Int {
        positions.enumerated().reduce(0) { value, entry in
            value | (code.isDark(row: entry.element.0, column: entry.element.1) ? 1 << entry.offset : 0)
        }
    }

    @Test func aShortTextFitsVersionOne() throws {
        let code = try QRCode("HELLO")
        #expect(code.version == 1)
        #expect(code.size == 21)
    }

    @Test func theVersionGrowsWithTheText() throws {
        let code = try QRCode(String(repeating: "x", count: 150))
        #expect(code.size >= 33)
        #expect((code.size - 17) % 4 == 0)
        #expect(try QRCode(enrolmentURL).size > 21)
    }

    @Test func finderPatternsSitInThreeCorners() throws {
        let code = try QRCode(enrolmentURL)
        let corners = [(0, 0), (0, code.size - 7), (code.size - 7, 0)]
        for (top, left) in corners {
            for row in 0..<7 {
                for column in 0..<7 {
                    let ring = max(abs(row - 3), abs(column - 3))
                    #expect(code.isDark(row: top + row, column: left + column) == (ring != 2))
                }
            }
        }
        for index in 0..<8 {
            #expect(!code.isDark(row: 7, column: index))
            #expect(!code.isDark(row: index, column: 7))
            #expect(!code.isDark(row: 7, column: code.size - 1 - index))
            #expect(!code.isDark(row: code.size - 8, column: index))
        }
    }

    @Test func timingPatternsAlternateAndTheDarkModuleIsSet() throws {
        let code = try QRCode(enrolmentURL)
        for index in 8..<(code.size - 8) {
            #expect(code.isDark(row: 6, column: index) == (index % 2 == 0))
            #expect(code.isDark(row: index, column: 6) == (index % 2 == 0))
        }
        #expect(code.isDark(row: 4 * code.version + 9, column: 8))
    }

    @Test func theFormatInformationCopiesAgree() throws {
        for text in ["HELLO", enrolmentURL, String(repeating: "z", count: 400)] {
            let code = try QRCode(text)
            let format = formatBitsNearTopLeft(code)
            #expect(format == formatBitsSplitCopy(code))
            let unmasked = format ^ 0x5412
            #expect(unmasked >> 13 == 0b00, "level M")
            #expect(unmasked >> 10 & 0b111 == code.mask)
            #expect(format == QRCode.formatBits(mask: code.mask))
        }
    }

    @Test func theVersionInformationCopiesAgree() throws {
        let code = try QRCode(String(repeating: "v", count: 110))
        #expect(code.version == 7)
        let size = code.size
        let topRight = (0..<18).map { ($0 / 3, size - 11 + $0 % 3) }
        let bottomLeft = (0..<18).map { (size - 11 + $0 % 3, $0 / 3) }
        #expect(bits(code, topRight) == 0x07C94)
        #expect(bits(code, bottomLeft) == 0x07C94)
    }

    @Test func theReedSolomonRemainderMatchesAKnownVector() {
        let data: [UInt8] = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17]
        let expected: [UInt8] = [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]
        #expect(QRCode.reedSolomonRemainder(data, degree: 10) == expected)
    }

    @Test func theDataCodewordsFollowTheByteModeLayout() {
        let codewords = QRCode.codewords(for: Array("AB".utf8), version: 1)
        #expect(codewords.count == 26)
        #expect(Array(codewords.prefix(6)) == [0x40, 0x24, 0x14, 0x20, 0xEC, 0x11])
    }

    @Test func aTextTooLongForVersionTwentyIsRefused() throws {
        #expect(try QRCode(String(repeating: "a", count: 666)).size == 97)
        #expect(throws: QRCode.TooLong.self) {
            try QRCode(String(repeating: "a", count: 667))
        }
    }

    @Test func theSVGDrawsOnePathOnAWhiteBackground() throws {
        let code = try QRCode(enrolmentURL)
        let svg = code.svg(moduleSize: 4, quietZone: 4)
        let side = code.size + 8
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(side) \(side)\""))
        #expect(svg.contains("width=\"\(side * 4)\" height=\"\(side * 4)\""))
        #expect(svg.contains("role=\"img\" aria-label=\"QR code\""))
        #expect(svg.contains("shape-rendering=\"crispEdges\""))
        #expect(svg.contains("<rect width=\"\(side)\" height=\"\(side)\" fill=\"#fff\"/>"))
        #expect(svg.ranges(of: "<path").count == 1)
        #expect(svg.contains("<path fill=\"#000\" d=\"M4 4h7v1h-7z"))
        #expect(svg.hasSuffix("\"/></svg>"))
    }
}
