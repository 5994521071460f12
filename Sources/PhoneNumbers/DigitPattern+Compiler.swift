extension DigitPattern {
    /// Turns a ``Node`` tree into the program that ``DigitPattern`` runs.
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
