import Foundation

/// Drawing for the console: SVG written by the server (no script, no inline styles, so the
/// Content-Security-Policy holds), every text escaped.
enum SVG {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A fill colour per entity type, stable across pages.
    static func colour(of type: String) -> String {
        let palette = ["#1f5fbf", "#b3261e", "#1e7a3c", "#a15c00", "#6b3fa0", "#00707a", "#7a5c00", "#8a3b69"]
        let index = type.unicodeScalars.reduce(0) { ($0 &* 31 &+ Int($1.value)) & 0xffff } % palette.count
        return palette[index]
    }

    /// An entity and the entities linked to it, drawn as a star: the entity in the middle, the
    /// others on a circle around it (most recent first, clockwise from the top), each a link to
    /// its own page.
    static func linkGraph(center: (label: String, type: String), links: [(label: String, type: String, href: String)], width: Double = 640,
                          height: Double = 420) -> String {
        let cx = width / 2, cy = height / 2
        let radius = min(width, height) / 2 - 50
        var out = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(number(width)) \##(number(height))" role="img" aria-label="Linked entities" class="graph">"##
        var nodes = ""
        for (index, link) in links.enumerated() {
            let angle = -Double.pi / 2 + 2 * Double.pi * Double(index) / Double(max(links.count, 1))
            let x = cx + radius * cos(angle), y = cy + radius * sin(angle)
            out += ##"<line x1="\##(number(cx))" y1="\##(number(cy))" x2="\##(number(x))" y2="\##(number(y))" stroke="#c3c8d1" stroke-width="1.5"/>"##
            let anchor = abs(cos(angle)) < 0.3 ? "middle" : (cos(angle) > 0 ? "start" : "end")
            let dx = anchor == "middle" ? 0 : (cos(angle) > 0 ? 12 : -12)
            let dy = anchor == "middle" ? (sin(angle) > 0 ? 22 : -14) : 4
            nodes += ##"<a href="\##(escape(link.href))"><circle cx="\##(number(x))" cy="\##(number(y))" r="8" fill="\##(colour(of: link.type))"/>"##
            nodes += ##"<text x="\##(number(x + Double(dx)))" y="\##(number(y + Double(dy)))" text-anchor="\##(anchor)" font-size="12" fill="#1d2330">\##(escape(String(link.label.prefix(28))))</text></a>"##
        }
        out += nodes
        out += ##"<circle cx="\##(number(cx))" cy="\##(number(cy))" r="14" fill="\##(colour(of: center.type))" stroke="#111a2b" stroke-width="2"/>"##
        out += ##"<text x="\##(number(cx))" y="\##(number(cy + 32))" text-anchor="middle" font-size="13" font-weight="700" fill="#1d2330">\##(escape(String(center.label.prefix(32))))</text>"##
        return out + "</svg>"
    }
}
