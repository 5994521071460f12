extension QRCode {
    /// A symbol's module grid while it is drawn: the function patterns, the data bits in their
    /// zigzag order, the data mask and the format and version information.
    struct Matrix: Sendable {
        /// The version being drawn, from 1 to 40.
        let version: Int
        /// The number of modules on each side.
        let size: Int
        /// The modules row by row; `true` is dark.
        private(set) var modules: [Bool]
        /// The data mask applied so far, 0 before any.
        private(set) var mask = 0
        /// Which modules belong to function patterns or format and version information, row by
        /// row; data bits and the mask skip them.
        private var reserved: [Bool]

        /// An empty grid of `version` with its function patterns drawn and the format information
        /// area reserved.
        init(version: Int) {
            self.version = version
            size = 17 + 4 * version
            modules = Array(repeating: false, count: size * size)
            reserved = modules
            drawFunctionPatterns()
        }

        /// `codewords` drawn in `version` under each of the eight masks, keeping the one with the
        /// lowest penalty score (the first of equals).
        static func best(version: Int, codewords: [UInt8]) -> Matrix {
            var base = Matrix(version: version)
            base.place(codewords)
            var best = base
            var bestScore = Int.max
            for mask in 0..<8 {
                var candidate = base
                candidate.apply(mask: mask)
                let score = candidate.penalty()
                if score < bestScore {
                    best = candidate
                    bestScore = score
                }
            }
            return best
        }

        /// Whether the module at `row` and `column` is dark.
        func isDark(_ row: Int, _ column: Int) -> Bool {
            modules[row * size + column]
        }

        /// Sets the module at `row` and `column` and marks it as part of a function pattern.
        private mutating func setFunction(_ row: Int, _ column: Int, _ dark: Bool) {
            modules[row * size + column] = dark
            reserved[row * size + column] = true
        }

        /// Draws the timing patterns, the three finder patterns with their separators, the
        /// alignment patterns, the format information (for mask 0, redrawn once the mask is
        /// chosen), the dark module and, from version 7, the version information.
        private mutating func drawFunctionPatterns() {
            for index in 0..<size {
                setFunction(6, index, index % 2 == 0)
                setFunction(index, 6, index % 2 == 0)
            }
            drawFinder(row: 3, column: 3)
            drawFinder(row: 3, column: size - 4)
            drawFinder(row: size - 4, column: 3)

            let centres = QRCode.alignmentCentres(version: version)
            let last = centres.count - 1
            for (rowIndex, row) in centres.enumerated() {
                for (columnIndex, column) in centres.enumerated() {
                    let onFinder =
                        (rowIndex == 0 && columnIndex == 0) || (rowIndex == 0 && columnIndex == last)
                        || (rowIndex == last && columnIndex == 0)
                    if !onFinder {
                        drawAlignment(row: row, column: column)
                    }
                }
            }
            drawFormat(mask: 0)
            drawVersion()
        }

        /// Draws a 7 by 7 finder pattern centred on `row` and `column`, with its light separator
        /// where it lies inside the symbol.
        private mutating func drawFinder(row: Int, column: Int) {
            for rowOffset in -4...4 {
                for columnOffset in -4...4 {
                    let moduleRow = row + rowOffset
                    let moduleColumn = column + columnOffset
                    guard (0..<size).contains(moduleRow), (0..<size).contains(moduleColumn) else { continue }
                    let ring = max(abs(rowOffset), abs(columnOffset))
                    setFunction(moduleRow, moduleColumn, ring != 2 && ring != 4)
                }
            }
        }

        /// Draws a 5 by 5 alignment pattern centred on `row` and `column`.
        private mutating func drawAlignment(row: Int, column: Int) {
            for rowOffset in -2...2 {
                for columnOffset in -2...2 {
                    setFunction(row + rowOffset, column + columnOffset, max(abs(rowOffset), abs(columnOffset)) != 1)
                }
            }
        }

        /// Draws both copies of the 15-bit format information for level M and `mask`, and the
        /// dark module at row `4 * version + 9`, column 8.
        private mutating func drawFormat(mask: Int) {
            let bits = QRCode.formatBits(mask: mask)
            func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }

            for index in 0...5 {
                setFunction(index, 8, bit(index))
            }
            setFunction(7, 8, bit(6))
            setFunction(8, 8, bit(7))
            setFunction(8, 7, bit(8))
            for index in 9..<15 {
                setFunction(8, 14 - index, bit(index))
            }

            for index in 0..<8 {
                setFunction(8, size - 1 - index, bit(index))
            }
            for index in 8..<15 {
                setFunction(size - 15 + index, 8, bit(index))
            }
            setFunction(size - 8, 8, true)
        }

        /// Draws both 6 by 3 copies of the 18-bit version information, from version 7 on.
        private mutating func drawVersion() {
            guard version >= 7 else { return }
            let bits = QRCode.versionBits(version: version)
            for index in 0..<18 {
                let dark = (bits >> index) & 1 == 1
                let near = index / 3
                let far = size - 11 + index % 3
                setFunction(near, far, dark)
                setFunction(far, near, dark)
            }
        }

        /// Places the bits of `codewords`, most significant first, in the modules that are not
        /// reserved: two columns at a time from the right, upwards then downwards, skipping the
        /// vertical timing column. Modules left over stay light.
        mutating func place(_ codewords: [UInt8]) {
            let bitCount = codewords.count * 8
            var bitIndex = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 {
                    right = 5
                }
                let upward = (right + 1) & 2 == 0
                for step in 0..<size {
                    let row = upward ? size - 1 - step : step
                    for column in [right, right - 1] {
                        let index = row * size + column
                        guard !reserved[index], bitIndex < bitCount else { continue }
                        modules[index] = (codewords[bitIndex >> 3] >> (7 - (bitIndex & 7))) & 1 == 1
                        bitIndex += 1
                    }
                }
                right -= 2
            }
        }

        /// Inverts the data modules that data mask `mask` (0 to 7) selects and draws the format
        /// information that names it.
        mutating func apply(mask: Int) {
            for row in 0..<size {
                for column in 0..<size where !reserved[row * size + column] {
                    if QRCode.maskSelects(mask, row: row, column: column) {
                        modules[row * size + column].toggle()
                    }
                }
            }
            self.mask = mask
            drawFormat(mask: mask)
        }
    }
}

extension QRCode.Matrix {
    /// The dark-light-dark-dark-dark-light-dark finder-like sequence with four light modules
    /// after it, and the same with them before it, as rule N3 looks for them.
    private static let finderLikeSequences: [[Bool]] = {
        let core = [true, false, true, true, true, false, true]
        let light = [Bool](repeating: false, count: 4)
        return [core + light, light + core]
    }()

    /// The grid's penalty score under rules N1 to N4 of ISO/IEC 18004: runs of five or more
    /// modules of one colour, 2 by 2 blocks of one colour, finder-like sequences in rows and
    /// columns, and the dark share's distance from half.
    func penalty() -> Int {
        var score = 0
        for line in 0..<size {
            score += Self.lineScore((0..<size).map { isDark(line, $0) })
            score += Self.lineScore((0..<size).map { isDark($0, line) })
        }
        for row in 0..<size - 1 {
            for column in 0..<size - 1 {
                let colour = isDark(row, column)
                if colour == isDark(row, column + 1) && colour == isDark(row + 1, column)
                    && colour == isDark(row + 1, column + 1)
                {
                    score += 3
                }
            }
        }
        let total = size * size
        let dark = modules.reduce(0) { $0 + ($1 ? 1 : 0) }
        score += 10 * (abs(dark * 20 - total * 10) / total)
        return score
    }

    /// The N1 and N3 penalties of one row or column: `run - 2` for each run of five or more
    /// modules of one colour, and 40 for each finder-like sequence.
    private static func lineScore(_ line: [Bool]) -> Int {
        var score = 0
        var run = 1
        for index in 1..<line.count {
            if line[index] == line[index - 1] {
                run += 1
            } else {
                if run >= 5 {
                    score += run - 2
                }
                run = 1
            }
        }
        if run >= 5 {
            score += run - 2
        }
        let width = finderLikeSequences[0].count
        for start in 0...(line.count - width) {
            let window = line[start..<start + width]
            for sequence in finderLikeSequences where window.elementsEqual(sequence) {
                score += 40
            }
        }
        return score
    }
}
