/// A QR code symbol (ISO/IEC 18004 Model 2) holding one text, drawn on the server as an SVG string.
///
/// The text's UTF-8 bytes are encoded in byte mode at error-correction level M, in the smallest
/// version from 1 to 20 that holds them. Of the eight data masks, the one with the lowest penalty
/// score (rules N1 to N4) is applied.
struct QRCode: Sendable {
    /// The error thrown when a text's UTF-8 bytes do not fit in a version 20 symbol at level M.
    struct TooLong: Error, Sendable {
        /// How many UTF-8 bytes the refused text has.
        let byteCount: Int
    }

    /// The highest version this encoder makes.
    static let maximumVersion = 20

    /// The symbol's version, from 1 to ``maximumVersion``.
    let version: Int
    /// The number of modules on each side of the symbol, quiet zone excluded: `17 + 4 * version`.
    let size: Int
    /// The data mask, from 0 to 7, that was applied to the symbol.
    let mask: Int
    /// The modules row by row, `size * size` of them; `true` is dark.
    private let modules: [Bool]

    /// Encodes `text` in the smallest version that holds it, or throws ``TooLong`` when even
    /// version 20 does not.
    init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard let version = Self.smallestVersion(fitting: bytes.count) else {
            throw TooLong(byteCount: bytes.count)
        }
        let matrix = Matrix.best(version: version, codewords: Self.codewords(for: bytes, version: version))
        self.version = version
        self.size = matrix.size
        self.mask = matrix.mask
        self.modules = matrix.modules
    }

    /// Whether the module at `row` and `column` (both counted from the top-left, from 0) is dark.
    /// Positions outside the symbol, such as the quiet zone, are light.
    func isDark(row: Int, column: Int) -> Bool {
        guard (0..<size).contains(row), (0..<size).contains(column) else { return false }
        return modules[row * size + column]
    }

    /// The symbol as a complete `<svg>` element: a white background and one black path, each
    /// module `moduleSize` pixels wide, inside a light margin of `quietZone` modules.
    ///
    /// The path draws each horizontal run of dark modules as one rectangle, in module units.
    func svg(moduleSize: Int = 4, quietZone: Int = 4) -> String {
        let margin = max(0, quietZone)
        let side = size + 2 * margin
        let pixels = side * max(1, moduleSize)
        var path = ""
        for row in 0..<size {
            var column = 0
            while column < size {
                guard isDark(row: row, column: column) else {
                    column += 1
                    continue
                }
                let start = column
                while column < size && isDark(row: row, column: column) {
                    column += 1
                }
                let run = column - start
                path += "M\(start + margin) \(row + margin)h\(run)v1h-\(run)z"
            }
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(side) \(side)\""
            + " width=\"\(pixels)\" height=\"\(pixels)\" role=\"img\" aria-label=\"QR code\""
            + " shape-rendering=\"crispEdges\">"
            + "<rect width=\"\(side)\" height=\"\(side)\" fill=\"#fff\"/>"
            + "<path fill=\"#000\" d=\"\(path)\"/></svg>"
    }
}

extension QRCode {
    /// How the codewords of one version at level M are split into error-correction blocks.
    ///
    /// The first ``shortBlocks`` blocks hold ``shortDataLength`` data codewords each; the
    /// ``longBlocks`` after them hold one more. Every block gets ``ecPerBlock`` EC codewords.
    struct BlockLayout: Sendable {
        /// The number of error-correction codewords appended to each block.
        let ecPerBlock: Int
        /// The number of blocks with ``shortDataLength`` data codewords.
        let shortBlocks: Int
        /// The number of data codewords in each short block.
        let shortDataLength: Int
        /// The number of blocks with `shortDataLength + 1` data codewords.
        let longBlocks: Int

        /// The number of data codewords the version holds.
        var dataCodewords: Int { shortBlocks * shortDataLength + longBlocks * (shortDataLength + 1) }
        /// The number of blocks.
        var blockCount: Int { shortBlocks + longBlocks }
    }

    /// The block layout of versions 1 to 20 at level M, from ISO/IEC 18004 table 9; index 0 is
    /// version 1.
    static let layouts: [BlockLayout] = {
        let rows: [(Int, Int, Int, Int)] = [
            (10, 1, 16, 0), (16, 1, 28, 0), (26, 1, 44, 0), (18, 2, 32, 0), (24, 2, 43, 0),
            (16, 4, 27, 0), (18, 4, 31, 0), (22, 2, 38, 2), (22, 3, 36, 2), (26, 4, 43, 1),
            (30, 1, 50, 4), (22, 6, 36, 2), (22, 8, 37, 1), (24, 4, 40, 5), (24, 5, 41, 5),
            (28, 7, 45, 3), (28, 10, 46, 1), (26, 9, 43, 4), (26, 3, 44, 11), (26, 3, 41, 13),
        ]
        return rows.map { BlockLayout(ecPerBlock: $0.0, shortBlocks: $0.1, shortDataLength: $0.2, longBlocks: $0.3) }
    }()

    /// The block layout of `version` (1 to 20) at level M.
    static func layout(version: Int) -> BlockLayout {
        layouts[version - 1]
    }

    /// The number of bits in the byte-mode character count of `version`.
    static func countBits(version: Int) -> Int {
        version <= 9 ? 8 : 16
    }

    /// The smallest version whose data codewords hold a byte-mode segment of `byteCount` bytes,
    /// or `nil` when none up to ``maximumVersion`` does.
    static func smallestVersion(fitting byteCount: Int) -> Int? {
        (1...maximumVersion).first { version in
            let needed = 4 + countBits(version: version) + 8 * byteCount
            return needed <= layout(version: version).dataCodewords * 8
        }
    }

    /// The final codeword sequence of `bytes` in `version`: the data codewords (mode, count, bytes,
    /// terminator and padding) split into blocks, each given its EC codewords, then interleaved.
    static func codewords(for bytes: [UInt8], version: Int) -> [UInt8] {
        let layout = Self.layout(version: version)
        let capacity = layout.dataCodewords * 8
        var bits: [Bool] = []
        bits.reserveCapacity(capacity)
        append(0b0100, count: 4, to: &bits)
        append(bytes.count, count: countBits(version: version), to: &bits)
        for byte in bytes {
            append(Int(byte), count: 8, to: &bits)
        }
        append(0, count: min(4, capacity - bits.count), to: &bits)
        append(0, count: (8 - bits.count % 8) % 8, to: &bits)

        var data: [UInt8] = []
        data.reserveCapacity(layout.dataCodewords)
        for start in stride(from: 0, to: bits.count, by: 8) {
            data.append(bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) })
        }
        var pad: UInt8 = 0xEC
        while data.count < layout.dataCodewords {
            data.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return interleave(data, layout: layout)
    }

    /// Splits `data` into the blocks of `layout`, computes each block's EC codewords, and returns
    /// the data codewords interleaved block by block, followed by the EC codewords likewise.
    static func interleave(_ data: [UInt8], layout: BlockLayout) -> [UInt8] {
        var blocks: [[UInt8]] = []
        var offset = 0
        for index in 0..<layout.blockCount {
            let length = layout.shortDataLength + (index < layout.shortBlocks ? 0 : 1)
            blocks.append(Array(data[offset..<offset + length]))
            offset += length
        }
        let corrections = blocks.map { reedSolomonRemainder($0, degree: layout.ecPerBlock) }

        var result: [UInt8] = []
        result.reserveCapacity(data.count + layout.blockCount * layout.ecPerBlock)
        for position in 0...layout.shortDataLength {
            for block in blocks where position < block.count {
                result.append(block[position])
            }
        }
        for position in 0..<layout.ecPerBlock {
            for correction in corrections {
                result.append(correction[position])
            }
        }
        return result
    }

    /// Appends the low `count` bits of `value` to `bits`, most significant first.
    private static func append(_ value: Int, count: Int, to bits: inout [Bool]) {
        for shift in stride(from: count - 1, through: 0, by: -1) {
            bits.append((value >> shift) & 1 == 1)
        }
    }
}
