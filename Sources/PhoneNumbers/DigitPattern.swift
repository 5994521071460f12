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
