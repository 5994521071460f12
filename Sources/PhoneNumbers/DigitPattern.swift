/// A regular expression over decimal digits, compiled once and matched without Foundation.
///
/// libphonenumber's metadata patterns only ever run against strings of ASCII digits, and use a
/// small part of regular-expression syntax: digits, `\d`, `[...]` classes of digits and ranges, `$`,
/// `(...)` and `(?:...)` groups, `|`, and the quantifiers `?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`.
/// Any other character is a literal that no digit matches. Matching follows Python's `re`:
/// alternatives in order, greedy quantifiers, the first successful path wins — so captures and
/// prefix matches agree with libphonenumber's.
struct DigitPattern: Sendable {
    /// One step of the compiled program.
    struct Instruction: Sendable {
        enum Operation: UInt8, Sendable {
            /// Consume one digit whose bit is set in `mask`.
            case digit
            /// Try `target` first and `alternative` if that fails.
            case split
            /// Continue at `target`.
            case jump
            /// Record the input position in capture slot `target`.
            case save
            /// Succeed only at the end of the input (`$`).
            case atEnd
            /// The pattern matched.
            case match
        }

        var operation: Operation
        var mask: UInt16 = 0
        var target: Int32 = 0
        var alternative: Int32 = 0
    }

    /// The compiled program.
    let program: [Instruction]
    /// The number of capturing groups.
    let groupCount: Int

    /// At most this many steps per match; patterns in the metadata need a few hundred at most.
    static let stepBudget = 200_000

    /// Compiles a pattern; `nil` when the syntax is outside the supported subset.
    init?(_ source: String) {
        var parser = Parser(source: Array(source.utf8))
        guard let node = parser.parseAlternation(), parser.index == parser.source.count else { return nil }
        var compiler = Compiler()
        compiler.emit(node)
        compiler.program.append(Instruction(operation: .match))
        program = compiler.program
        groupCount = parser.groupCount
    }

    /// Whether the whole of `digits` matches.
    func matchesWhole(_ digits: ArraySlice<UInt8>) -> Bool {
        run(digits, whole: true, captures: nil) != nil
    }

    /// The length of the prefix of `digits` the pattern matches, if it matches a prefix.
    func prefixMatchLength(_ digits: ArraySlice<UInt8>) -> Int? {
        run(digits, whole: false, captures: nil)
    }

    /// Matches a prefix (or the whole when `whole`) and returns the end and the capture ranges
    /// (offsets into `digits`, `nil` for groups that did not take part).
    func captures(_ digits: ArraySlice<UInt8>, whole: Bool) -> (end: Int, groups: [Range<Int>?])? {
        var slots = [Int](repeating: -1, count: groupCount * 2)
        guard let end = run(digits, whole: whole, captures: &slots) else { return nil }
        let groups: [Range<Int>?] = (0..<groupCount).map { group in
            let start = slots[group * 2]
            let stop = slots[group * 2 + 1]
            return start >= 0 && stop >= start ? start..<stop : nil
        }
        return (end, groups)
    }

    /// The backtracking machine. Digits are ASCII (`0`...`9`); returns the end offset.
    private func run(_ digits: ArraySlice<UInt8>, whole: Bool, captures: UnsafeMutablePointer<[Int]>?) -> Int? {
        let start = digits.startIndex
        let end = digits.endIndex
        // A backtrack entry is either a thread (pc, position) or, with pc < 0, a capture to restore.
        var stack: [(pc: Int32, position: Int, slotValue: Int)] = []
        stack.reserveCapacity(32)
        var pc: Int32 = 0
        var position = start
        var steps = 0
        return program.withUnsafeBufferPointer { program in
            while true {
                steps += 1
                if steps > Self.stepBudget { return nil }
                let instruction = program[Int(pc)]
                var failed = false
                switch instruction.operation {
                case .digit:
                    if position < end {
                        let value = digits[position] &- 48
                        if value < 10 && instruction.mask & (1 << UInt16(value)) != 0 {
                            position += 1
                            pc += 1
                        } else {
                            failed = true
                        }
                    } else {
                        failed = true
                    }
                case .split:
                    stack.append((instruction.alternative, position, 0))
                    pc = instruction.target
                case .jump:
                    pc = instruction.target
                case .save:
                    if let captures {
                        let slot = Int(instruction.target)
                        stack.append((-1 - instruction.target, 0, captures.pointee[slot]))
                        captures.pointee[slot] = position - start
                    }
                    pc += 1
                case .atEnd:
                    if position == end { pc += 1 } else { failed = true }
                case .match:
                    if !whole || position == end { return position - start }
                    failed = true
                }
                if failed {
                    while true {
                        guard let entry = stack.popLast() else { return nil }
                        if entry.pc < 0 {
                            captures?.pointee[Int(-1 - entry.pc)] = entry.slotValue
                        } else {
                            pc = entry.pc
                            position = entry.position
                            break
                        }
                    }
                }
            }
        }
    }
}

extension DigitPattern {
    /// The syntax tree of a pattern.
    indirect enum Node {
        case digits(UInt16)
        case never
        case atEnd
        case sequence([Node])
        case alternation([Node])
        case group(Node, capture: Int?)
        case repeated(Node, min: Int, max: Int?)
    }

    struct Parser {
        let source: [UInt8]
        var index = 0
        var groupCount = 0

        init(source: [UInt8]) {
            self.source = source
        }

        mutating func parseAlternation() -> Node? {
            var branches: [Node] = []
            repeat {
                guard let branch = parseSequence() else { return nil }
                branches.append(branch)
            } while consume(UInt8(ascii: "|"))
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func parseSequence() -> Node? {
            var items: [Node] = []
            while index < source.count, source[index] != UInt8(ascii: "|"), source[index] != UInt8(ascii: ")") {
                guard var atom = parseAtom() else { return nil }
                while let (min, max) = parseQuantifier() {
                    atom = .repeated(atom, min: min, max: max)
                }
                items.append(atom)
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        mutating func parseAtom() -> Node? {
            let character = source[index]
            index += 1
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .digits(1 << UInt16(character - 48))
            case UInt8(ascii: "\\"):
                guard index < source.count else { return nil }
                let escaped = source[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "d"): return .digits(0x3FF)
                case UInt8(ascii: "0")...UInt8(ascii: "9"): return nil
                default: return .never
                }
            case UInt8(ascii: "["):
                return parseClass()
            case UInt8(ascii: "("):
                var capture: Int?
                if consume(UInt8(ascii: "?")) {
                    guard consume(UInt8(ascii: ":")) else { return nil }
                } else {
                    capture = groupCount
                    groupCount += 1
                }
                guard let inner = parseAlternation(), consume(UInt8(ascii: ")")) else { return nil }
                return .group(inner, capture: capture)
            case UInt8(ascii: "$"):
                return .atEnd
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                UInt8(ascii: "?"), UInt8(ascii: "{"):
                return nil
            default:
                return .never
            }
        }

        mutating func parseClass() -> Node? {
            var mask: UInt16 = 0
            if index < source.count, source[index] == UInt8(ascii: "^") { return nil }
            while index < source.count, source[index] != UInt8(ascii: "]") {
                var low = source[index]
                index += 1
                if low == UInt8(ascii: "\\") {
                    guard index < source.count else { return nil }
                    let escaped = source[index]
                    index += 1
                    if escaped == UInt8(ascii: "d") {
                        mask |= 0x3FF
                        continue
                    }
                    low = escaped
                }
                if index + 1 < source.count, source[index] == UInt8(ascii: "-"), source[index + 1] != UInt8(ascii: "]")
                {
                    let high = source[index + 1]
                    index += 2
                    guard low <= high else { return nil }
                    for value in low...high where value >= 48 && value <= 57 {
                        mask |= 1 << UInt16(value - 48)
                    }
                } else if low >= 48 && low <= 57 {
                    mask |= 1 << UInt16(low - 48)
                }
            }
            guard consume(UInt8(ascii: "]")) else { return nil }
            return mask == 0 ? .never : .digits(mask)
        }

        mutating func parseQuantifier() -> (Int, Int?)? {
            guard index < source.count else { return nil }
            switch source[index] {
            case UInt8(ascii: "?"):
                index += 1
                return (0, 1)
            case UInt8(ascii: "*"):
                index += 1
                return (0, nil)
            case UInt8(ascii: "+"):
                index += 1
                return (1, nil)
            case UInt8(ascii: "{"):
                var cursor = index + 1
                func number() -> Int? {
                    var value: Int?
                    while cursor < source.count, source[cursor] >= 48, source[cursor] <= 57 {
                        value = (value ?? 0) * 10 + Int(source[cursor] - 48)
                        cursor += 1
                    }
                    return value
                }
                guard let low = number() else { return nil }
                var high: Int? = low
                if cursor < source.count, source[cursor] == UInt8(ascii: ",") {
                    cursor += 1
                    high = number()
                }
                guard cursor < source.count, source[cursor] == UInt8(ascii: "}") else { return nil }
                index = cursor + 1
                return (low, high)
            default:
                return nil
            }
        }

        mutating func consume(_ character: UInt8) -> Bool {
            guard index < source.count, source[index] == character else { return false }
            index += 1
            return true
        }
    }

    struct Compiler {
        var program: [Instruction] = []

        mutating func emit(_ node: Node) {
            switch node {
            case .digits(let mask):
                program.append(Instruction(operation: .digit, mask: mask))
            case .never:
                program.append(Instruction(operation: .digit, mask: 0))
            case .atEnd:
                program.append(Instruction(operation: .atEnd))
            case .sequence(let items):
                for item in items { emit(item) }
            case .alternation(let branches):
                var jumps: [Int] = []
                for (offset, branch) in branches.enumerated() {
                    if offset < branches.count - 1 {
                        let split = program.count
                        program.append(Instruction(operation: .split))
                        program[split].target = Int32(program.count)
                        emit(branch)
                        jumps.append(program.count)
                        program.append(Instruction(operation: .jump))
                        program[split].alternative = Int32(program.count)
                    } else {
                        emit(branch)
                    }
                }
                for jump in jumps { program[jump].target = Int32(program.count) }
            case .group(let inner, let capture):
                if let capture { program.append(Instruction(operation: .save, target: Int32(capture * 2))) }
                emit(inner)
                if let capture { program.append(Instruction(operation: .save, target: Int32(capture * 2 + 1))) }
            case .repeated(let inner, let min, let max):
                for _ in 0..<min { emit(inner) }
                if let max {
                    // Each optional copy nests inside the previous one: a?(a?(...)) greedy.
                    var splits: [Int] = []
                    for _ in min..<max {
                        splits.append(program.count)
                        program.append(Instruction(operation: .split))
                        program[splits.last!].target = Int32(program.count)
                        emit(inner)
                    }
                    for split in splits { program[split].alternative = Int32(program.count) }
                } else {
                    let loop = program.count
                    program.append(Instruction(operation: .split))
                    program[loop].target = Int32(program.count)
                    emit(inner)
                    program.append(Instruction(operation: .jump, target: Int32(loop)))
                    program[loop].alternative = Int32(program.count)
                }
            }
        }
    }
}
