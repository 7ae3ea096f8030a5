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

    /// The colours of nodes and series, in order.
    static let palette = ["#1f5fbf", "#b3261e", "#1e7a3c", "#a15c00", "#6b3fa0", "#00707a", "#7a5c00", "#8a3b69"]

    /// A fill colour per entity type, stable across pages.
    static func colour(of type: String) -> String {
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

extension SVG {
    /// A named series of values for a line chart.
    struct Series {
        var name: String
        var values: [Double]
    }


    /// Round figures for an axis up to `maximum`.
    static func niceMaximum(_ maximum: Double) -> Double {
        guard maximum > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(maximum)))
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * magnitude >= maximum { return step * magnitude }
        return 10 * magnitude
    }

    static func format(_ value: Double, percent: Bool) -> String {
        if percent { return String(format: "%.0f%%", value * 100) }
        return value == value.rounded() ? String(Int64(value)) : String(format: "%.1f", value)
    }

    /// Lines over labelled points (days, weeks), with axes, a legend and a title for screen readers.
    static func lineChart(title: String, labels: [String], series: [Series], percent: Bool = false, width: Double = 640, height: Double = 260) -> String {
        let left = 48.0, right = 26.0, top = 28.0, bottom = 40.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maximum = percent ? 1 : niceMaximum(series.flatMap(\.values).max() ?? 0)
        let count = max(labels.count, 1)
        func x(_ index: Int) -> Double { left + (count == 1 ? plotWidth / 2 : plotWidth * Double(index) / Double(count - 1)) }
        func y(_ value: Double) -> Double { top + plotHeight - plotHeight * min(value, maximum) / maximum }
        var out = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(number(width)) \##(number(height))" role="img" aria-label="\##(escape(title))" class="chart">"##
        out += ##"<title>\##(escape(title))</title>"##
        for tick in 0...4 {
            let value = maximum * Double(tick) / 4
            out += ##"<line x1="\##(number(left))" x2="\##(number(width - right))" y1="\##(number(y(value)))" y2="\##(number(y(value)))" stroke="#e3e6eb"/>"##
            out += ##"<text x="\##(number(left - 6))" y="\##(number(y(value) + 4))" text-anchor="end" font-size="11" fill="#5b6474">\##(format(value, percent: percent))</text>"##
        }
        let every = max(1, Int((Double(labels.count) / 8).rounded(.up)))
        for (index, label) in labels.enumerated() where index % every == 0 || index == labels.count - 1 {
            out += ##"<text x="\##(number(x(index)))" y="\##(number(height - bottom + 16))" text-anchor="middle" font-size="11" fill="#5b6474">\##(escape(label))</text>"##
        }
        for (index, line) in series.enumerated() {
            let colour = palette[index % palette.count]
            let points = line.values.enumerated().map { "\(number(x($0.offset))),\(number(y($0.element)))" }.joined(separator: " ")
            out += ##"<polyline points="\##(points)" fill="none" stroke="\##(colour)" stroke-width="2"/>"##
            for (offset, value) in line.values.enumerated() where line.values.count <= 31 {
                out += ##"<circle cx="\##(number(x(offset)))" cy="\##(number(y(value)))" r="2.5" fill="\##(colour)"><title>\##(escape(line.name)) \##(escape(labels[safe: offset] ?? "")): \##(format(value, percent: percent))</title></circle>"##
            }
            let legendX = left + Double(index) * 130
            out += ##"<rect x="\##(number(legendX))" y="8" width="10" height="10" fill="\##(colour)"/><text x="\##(number(legendX + 14))" y="17" font-size="12" fill="#1d2330">\##(escape(String(line.name.prefix(18))))</text>"##
        }
        return out + "</svg>"
    }

    /// Horizontal bars, one per labelled value.
    static func barChart(title: String, bars: [(label: String, value: Double)], percent: Bool = false, width: Double = 640) -> String {
        let rowHeight = 24.0, left = 150.0, right = 60.0, top = 8.0
        let height = top * 2 + rowHeight * Double(max(bars.count, 1))
        let maximum = percent ? 1 : niceMaximum(bars.map(\.value).max() ?? 0)
        var out = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(number(width)) \##(number(height))" role="img" aria-label="\##(escape(title))" class="chart">"##
        out += ##"<title>\##(escape(title))</title>"##
        for (index, bar) in bars.enumerated() {
            let y = top + rowHeight * Double(index)
            let length = (width - left - right) * min(bar.value, maximum) / maximum
            out += ##"<text x="\##(number(left - 8))" y="\##(number(y + 16))" text-anchor="end" font-size="12" fill="#1d2330">\##(escape(String(bar.label.prefix(22))))</text>"##
            out += ##"<rect x="\##(number(left))" y="\##(number(y + 4))" width="\##(number(max(length, 1)))" height="\##(number(rowHeight - 8))" fill="\##(palette[0])"/>"##
            out += ##"<text x="\##(number(left + length + 6))" y="\##(number(y + 16))" font-size="12" fill="#5b6474">\##(format(bar.value, percent: percent))</text>"##
        }
        return out + "</svg>"
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

extension SVG {
    /// A cluster: its accounts on an outer circle, the pivots they share on an inner one, a line for
    /// each account–pivot link; every node a link to its entity page.
    static func clusterGraph(accounts: [String], pivots: [String], links: [(String, String)], width: Double = 640, height: Double = 480) -> String {
        let cx = width / 2, cy = height / 2
        let outer = min(width, height) / 2 - 40, inner = outer * 0.45
        func place(_ items: [String], radius: Double) -> [String: (Double, Double)] {
            var placed: [String: (Double, Double)] = [:]
            for (index, item) in items.enumerated() {
                let angle = -Double.pi / 2 + 2 * Double.pi * Double(index) / Double(max(items.count, 1))
                placed[item] = items.count == 1 && radius == inner ? (cx, cy) : (cx + radius * cos(angle), cy + radius * sin(angle))
            }
            return placed
        }
        let at = place(accounts, radius: outer).merging(place(pivots, radius: inner)) { first, _ in first }
        var out = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(number(width)) \##(number(height))" role="img" aria-label="Cluster of \##(accounts.count) accounts" class="graph">"##
        for (account, pivot) in links {
            guard let a = at[account], let p = at[pivot] else { continue }
            out += ##"<line x1="\##(number(a.0))" y1="\##(number(a.1))" x2="\##(number(p.0))" y2="\##(number(p.1))" stroke="#c3c8d1" stroke-width="1"/>"##
        }
        let labelled = accounts.count + pivots.count <= 40
        for (item, radius) in accounts.map({ ($0, 5.0) }) + pivots.map({ ($0, 8.0) }) {
            guard let (x, y) = at[item] else { continue }
            let type = String(item.prefix { $0 != ":" }), id = String(item.drop { $0 != ":" }.dropFirst())
            let href = "/entities/" + (type.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? type) + "/"
                + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)
            out += ##"<a href="\##(escape(href))"><circle cx="\##(number(x))" cy="\##(number(y))" r="\##(number(radius))" fill="\##(colour(of: type))"><title>\##(escape(item))</title></circle>"##
            if labelled || radius > 5 {
                out += ##"<text x="\##(number(x + radius + 3))" y="\##(number(y + 4))" font-size="10" fill="#1d2330">\##(escape(String(item.prefix(24))))</text>"##
            }
            out += "</a>"
        }
        return out + "</svg>"
    }
}
