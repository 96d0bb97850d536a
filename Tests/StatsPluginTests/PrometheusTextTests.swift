@testable import StatsPlugin
import XCTest

final class PrometheusTextTests: XCTestCase {
    private func sample(_ name: String, _ kind: StatsKind, help: String = "h", labels: [(String, String)] = [], value: Double = 0,
                        latency: LatencySummary? = nil) -> StatsSample {
        StatsSample(name: name, help: help, kind: kind, labelNames: labels.map(\.0), labelValues: labels.map(\.1), value: value,
                    latency: latency)
    }

    func testCountersEndInTotalAndGaugesKeepTheirName() {
        let text = PrometheusText.render([sample("funnel_queries", .counter, value: 3), sample("requests_total", .counter, value: 1),
                                          sample("pool_size", .gauge, value: -2.5)], digests: [])
        XCTAssertEqual(text, """
        # HELP funnel_queries_total h
        # TYPE funnel_queries_total counter
        funnel_queries_total 3
        # HELP requests_total h
        # TYPE requests_total counter
        requests_total 1
        # HELP pool_size h
        # TYPE pool_size gauge
        pool_size -2.5

        """)
    }

    func testLabelValuesAndHelpAreEscaped() {
        let text = PrometheusText.render([sample("g", .gauge, help: "a \\ b\nc \"q\"", labels: [("path", "C:\\x \"y\"\nz")], value: 1)],
                                         digests: [])
        XCTAssertTrue(text.contains(#"# HELP g a \\ b\nc "q""#), text)
        XCTAssertTrue(text.contains(#"g{path="C:\\x \"y\"\nz"} 1"#), text)
    }

    func testHistogramsAreSummariesInSeconds() {
        let latency = LatencySummary(count: 4, sum: 2_500_000_000, min: 1_000, max: 2_000_000_000, p50: 1_500_000, p90: 2_000_000,
                                     p95: 3_000_000, p99: 1_000_000_000, p999: 2_000_000_000)
        let text = PrometheusText.render([sample("funnel_backend_query_duration", .histogram, labels: [("backend", "db1")], value: 4,
                                                 latency: latency)], digests: [])
        XCTAssertEqual(text, """
        # HELP funnel_backend_query_duration_seconds h
        # TYPE funnel_backend_query_duration_seconds summary
        funnel_backend_query_duration_seconds{backend="db1",quantile="0.5"} 0.0015
        funnel_backend_query_duration_seconds{backend="db1",quantile="0.9"} 0.002
        funnel_backend_query_duration_seconds{backend="db1",quantile="0.95"} 0.003
        funnel_backend_query_duration_seconds{backend="db1",quantile="0.99"} 1
        funnel_backend_query_duration_seconds{backend="db1",quantile="0.999"} 2
        funnel_backend_query_duration_seconds_sum{backend="db1"} 2.5
        funnel_backend_query_duration_seconds_count{backend="db1"} 4
        # HELP funnel_backend_query_duration_seconds_max Largest value recorded: h
        # TYPE funnel_backend_query_duration_seconds_max gauge
        funnel_backend_query_duration_seconds_max{backend="db1"} 2

        """)
    }

    func testSeriesOfOneNameStayTogetherAndClashesAreDropped() {
        let text = PrometheusText.render([
            sample("a", .gauge, labels: [("k", "1")], value: 1),
            sample("b", .gauge, value: 2),
            sample("a", .gauge, labels: [("k", "2")], value: 3),
            sample("a", .gauge, labels: [("k", "1")], value: 9),   // duplicate series
            sample("b", .counter, value: 4),                        // other kind: b_total, its own family
            sample("a", .counter, value: 5),                        // a_total
        ], digests: [])
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertEqual(lines, [#"a{k="1"} 1"#, #"a{k="2"} 3"#, "b 2", "b_total 4", "a_total 5"])
    }

    func testDigestsAreLabelledByIdNotText() {
        let digest = DigestSample(id: 0xab, text: "SELECT ?", user: "app\"", database: "shop", count: 3, errors: 1, rowsSent: 7,
                                  rowsAffected: 0, latency: LatencySummary(count: 3, sum: 3_000_000, min: 1_000_000, max: 1_000_000,
                                                                            p50: 1_000_000, p90: 1_000_000, p95: 1_000_000,
                                                                            p99: 1_000_000, p999: 1_000_000),
                                  firstSeenUnixMs: 1, lastSeenUnixMs: 2)
        let text = PrometheusText.render([], digests: [digest])
        XCTAssertTrue(text.contains(#"query_digest_calls_total{digest="00000000000000ab",user="app\"",db="shop"} 3"#), text)
        XCTAssertTrue(text.contains(#"query_digest_errors_total{digest="00000000000000ab",user="app\"",db="shop"} 1"#))
        XCTAssertTrue(text.contains(#"query_digest_rows_sent_total{digest="00000000000000ab",user="app\"",db="shop"} 7"#))
        XCTAssertTrue(text.contains(#"query_digest_duration_seconds{digest="00000000000000ab",user="app\"",db="shop",quantile="0.99"} 0.001"#))
        XCTAssertTrue(text.contains(#"query_digest_duration_seconds_count{digest="00000000000000ab",user="app\"",db="shop"} 3"#))
        XCTAssertFalse(text.contains("SELECT"))
    }

    func testNumberFormat() {
        XCTAssertEqual(PrometheusText.format(0), "0")
        XCTAssertEqual(PrometheusText.format(12345678), "12345678")
        XCTAssertEqual(PrometheusText.format(0.25), "0.25")
        XCTAssertEqual(PrometheusText.format(1e20), "1e+20")
        XCTAssertEqual(PrometheusText.format(.nan), "NaN")
        XCTAssertEqual(PrometheusText.format(-.infinity), "-Inf")
    }

    func testEndpoints() throws {
        let store = StatsStore(maxDigests: 10)
        store.metric(kind: .counter, name: "hits", help: "h", labelNames: [])?.series([])?.add(2)
        let (status, type, body) = StatsEndpoints.response(method: .GET, uri: "/metrics?x=1", store: store)
        XCTAssertEqual(status, .ok)
        XCTAssertEqual(type, "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains("\nhits_total 2\n"))
        let json = StatsEndpoints.response(method: .GET, uri: "/stats.json", store: store)
        XCTAssertEqual(json.0, .ok)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.2)) as? [String: Any])
        XCTAssertNotNil(object["digests"] as? [Any])
        let metrics = try XCTUnwrap(object["metrics"] as? [[String: Any]])
        XCTAssertEqual(metrics.first { $0["name"] as? String == "hits_total" }?["value"] as? Double, 2)
        XCTAssertEqual(StatsEndpoints.response(method: .GET, uri: "/", store: store).0, .notFound)
        XCTAssertEqual(StatsEndpoints.response(method: .POST, uri: "/metrics", store: store).0, .methodNotAllowed)
    }

    func testAddressParsing() {
        XCTAssertTrue(MetricsHTTPServer.parse("127.0.0.1:9104")! == ("127.0.0.1", 9104))
        XCTAssertTrue(MetricsHTTPServer.parse("[::1]:0")! == ("::1", 0))
        XCTAssertNil(MetricsHTTPServer.parse("localhost"))
        XCTAssertNil(MetricsHTTPServer.parse(":80"))
        XCTAssertNil(MetricsHTTPServer.parse("h:70000"))
    }
}
