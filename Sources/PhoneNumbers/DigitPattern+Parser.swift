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

    /// Reads a pattern's text into a ``Node`` tree and counts its capturing groups; a `nil` node
    /// means syntax outside the supported subset.
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
}
