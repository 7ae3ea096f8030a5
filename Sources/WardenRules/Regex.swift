import Foundation

/// Regular expressions for rules, with guard rails: a pattern with nested unbounded quantifiers
/// (the shape of catastrophic backtracking, such as `(a+)+`) is refused at check time, and the
/// text a pattern is matched against is capped at 10,000 characters.
struct NSRegularExpressionBox: @unchecked Sendable {
    // NSRegularExpression is immutable and safe to share between threads.
    let regex: NSRegularExpression
    static let maxInput = 10_000

    init(pattern: String) throws {
        regex = try NSRegularExpression(pattern: pattern, options: [])
    }

    func matches(_ text: String) -> Bool {
        let bounded = text.count > Self.maxInput ? String(text.prefix(Self.maxInput)) : text
        return regex.firstMatch(in: bounded, range: NSRange(bounded.startIndex..., in: bounded)) != nil
    }

    /// Why a pattern is too risky to run, or nil.
    static func risk(of pattern: String) -> String? {
        guard pattern.count <= 500 else { return "the pattern is longer than 500 characters" }
        // Track, per open group, whether it contains an unbounded quantifier; a group that does
        // and is itself repeated without bound can backtrack exponentially.
        var stack: [Bool] = []
        var containsUnbounded = false
        var previousGroupUnbounded = false
        var escaped = false
        var inClass = false
        for character in pattern {
            if escaped {
                escaped = false
                previousGroupUnbounded = false
                continue
            }
            switch character {
            case "\\": escaped = true
            case "[": inClass = true
            case "]": inClass = false
            case "(" where !inClass:
                stack.append(containsUnbounded)
                containsUnbounded = false
                previousGroupUnbounded = false
                continue
            case ")" where !inClass:
                let inner = containsUnbounded
                containsUnbounded = (stack.popLast() ?? false) || inner
                previousGroupUnbounded = inner
                continue
            case "*", "+", "{":
                if inClass { break }
                if previousGroupUnbounded {
                    return "a repeated group that itself repeats without bound (like (a+)+) can take exponential time; rewrite it without the nesting"
                }
                containsUnbounded = true
            default: break
            }
            previousGroupUnbounded = false
        }
        return nil
    }
}
