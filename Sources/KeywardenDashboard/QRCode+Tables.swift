extension QRCode {
    /// The row and column coordinates of the alignment-pattern centres of versions 1 to 20, from
    /// ISO/IEC 18004 annex E; index 0 is version 1, which has none.
    static let alignmentCoordinates: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
        [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50], [6, 30, 54], [6, 32, 58], [6, 34, 62],
        [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78], [6, 30, 56, 82],
        [6, 30, 58, 86], [6, 34, 62, 90],
    ]

    /// The alignment-pattern centre coordinates of `version` (1 to 20): every pairing of two of
    /// them is a centre, except the three that fall on finder patterns.
    static func alignmentCentres(version: Int) -> [Int] {
        alignmentCoordinates[version - 1]
    }

    /// The 15 format-information bits for level M (indicator `00`) and data mask `mask`: the five
    /// data bits, their BCH(15,5) remainder by the generator 0x537, masked with 0x5412. Bit 14 is
    /// the level's first bit.
    static func formatBits(mask: Int) -> Int {
        let data = 0b00 << 3 | mask
        var remainder = data
        for _ in 0..<10 {
            remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
        }
        return (data << 10 | remainder) ^ 0x5412
    }

    /// The 18 version-information bits of `version`: the six version bits and their BCH(18,6)
    /// remainder by the generator 0x1F25. Bit 17 is the version's first bit.
    static func versionBits(version: Int) -> Int {
        var remainder = version
        for _ in 0..<12 {
            remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
        }
        return version << 12 | remainder
    }

    /// Whether data mask `mask` (0 to 7) inverts the module at `row` and `column`.
    static func maskSelects(_ mask: Int, row: Int, column: Int) -> Bool {
        switch mask {
        case 0: (row + column) % 2 == 0
        case 1: row % 2 == 0
        case 2: column % 3 == 0
        case 3: (row + column) % 3 == 0
        case 4: (row / 2 + column / 3) % 2 == 0
        case 5: row * column % 2 + row * column % 3 == 0
        case 6: (row * column % 2 + row * column % 3) % 2 == 0
        default: ((row + column) % 2 + row * column % 3) % 2 == 0
        }
    }

    /// Arithmetic in GF(256) as QR codes use it: polynomial basis modulo x⁸ + x⁴ + x³ + x² + 1
    /// (0x11D), with α = 2 as the generator.
    enum GaloisField {
        /// αⁱ for i from 0 to 254.
        static let exponents: [UInt8] = {
            var table = [UInt8](repeating: 0, count: 255)
            var value = 1
            for power in 0..<255 {
                table[power] = UInt8(value)
                value <<= 1
                if value & 0x100 != 0 {
                    value ^= 0x11D
                }
            }
            return table
        }()

        /// The discrete logarithm to base α of each non-zero element; entry 0 is unused.
        static let logarithms: [UInt8] = {
            var table = [UInt8](repeating: 0, count: 256)
            for power in 0..<255 {
                table[Int(exponents[power])] = UInt8(power)
            }
            return table
        }()

        /// The product of `left` and `right` in the field.
        static func multiply(_ left: UInt8, _ right: UInt8) -> UInt8 {
            guard left != 0, right != 0 else { return 0 }
            return exponents[(Int(logarithms[Int(left)]) + Int(logarithms[Int(right)])) % 255]
        }
    }

    /// The coefficients of the Reed-Solomon generator polynomial (x − α⁰)(x − α¹)…(x − αᵈ⁻¹) of
    /// degree `degree`, highest power first; the first is always 1.
    static func reedSolomonGenerator(degree: Int) -> [UInt8] {
        var polynomial: [UInt8] = [1]
        for power in 0..<degree {
            let root = GaloisField.exponents[power]
            var product = polynomial + [0]
            for index in polynomial.indices {
                product[index + 1] ^= GaloisField.multiply(polynomial[index], root)
            }
            polynomial = product
        }
        return polynomial
    }

    /// The `degree` error-correction codewords of the data codewords `data`: the remainder of
    /// `data` times xᵈ divided by the generator polynomial of degree `degree`, highest power first.
    static func reedSolomonRemainder(_ data: [UInt8], degree: Int) -> [UInt8] {
        let generator = reedSolomonGenerator(degree: degree)
        var remainder = [UInt8](repeating: 0, count: degree)
        guard degree > 0 else { return remainder }
        for byte in data {
            let factor = byte ^ remainder[0]
            remainder.removeFirst()
            remainder.append(0)
            for index in 0..<degree {
                remainder[index] ^= GaloisField.multiply(generator[index + 1], factor)
            }
        }
        return remainder
    }
}
