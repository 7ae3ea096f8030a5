import WardenCore
/// Masks personal data for people who may not see it: e-mail addresses keep their first letter and
/// domain (`j***@example.com`), IP addresses their first part (`203.x.x.x`), phone numbers their last
/// two digits. Entity references of those types are masked the same way.
public enum PersonalData {
    /// Masks an entity reference (`email:jo@example.com` → `email:j***@example.com`).
    public static func mask(entity text: String) -> String {
        guard let colon = text.firstIndex(of: ":") else { return text }
        let type = text[..<colon], id = String(text[text.index(after: colon)...])
        switch type {
        case "email": return "email:" + maskEmail(id)
        case "ip": return "ip:" + maskIP(id)
        case "phone": return "phone:" + maskPhone(id)
        default: return text
        }
    }

    /// Masks every e-mail address and IPv4 address inside free text.
    public static func mask(text: String) -> String {
        var words: [String] = []
        var current = ""
        for character in text {
            if character.isLetter || character.isNumber || "@._-+".contains(character) {
                current.append(character)
            } else {
                words.append(maskWord(current))
                words.append(String(character))
                current = ""
            }
        }
        words.append(maskWord(current))
        return words.joined()
    }

    private static func maskWord(_ word: String) -> String {
        if word.contains("@"), word.contains(".") { return maskEmail(word) }
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return maskIP(word) }
        return word
    }

    static func maskEmail(_ email: String) -> String {
        guard let at = email.firstIndex(of: "@") else { return "***" }
        return String(email.prefix(1)) + "***" + email[at...]
    }

    static func maskIP(_ ip: String) -> String {
        if ip.contains(":") { return (ip.split(separator: ":").first.map(String.init) ?? "") + ":x:x:x" }
        return (ip.split(separator: ".").first.map(String.init) ?? "") + ".x.x.x"
    }

    static func maskPhone(_ phone: String) -> String {
        let digits = phone.filter(\.isNumber)
        return String(repeating: "*", count: max(0, digits.count - 2)) + digits.suffix(2)
    }
}
