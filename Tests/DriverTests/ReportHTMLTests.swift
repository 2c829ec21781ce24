// report.html rendered from report.json text: Yosys figures (rtlgen synth, --yosys-stats) appear
// when present, names are escaped, a report without stage delays (a reuse factor) still draws
// every layer, and the same text gives the same page.
@testable import Driver
import Foundation
import XCTest

final class ReportHTMLTests: XCTestCase {
    func report(synthesis: Bool, yosys: Bool, stages: Bool) -> String {
        let y = yosys ? #", "yosys": {"cells": 77, "mul_cells": 3, "cell_types": {"$mul": 3}}"# : ""
        let st = stages ? #""stage_delays_ns": [3.10, 2.50], "stage_budget_ns": 3.845,"# : ""
        let ls = stages ? #", "stage_delays_ns": [3.10, 2.50]"# : ""
        let syn = synthesis ? #", "synthesis": {"tool": "yosys", "command": "yosys -p 'synth_xilinx'", "lut": 1234, "srl": 0, "ff": 567, "carry": 8, "dsp": 2, "bram": 0}"# : ""
        return """
        {"model": "m<x>", "top": "m_top", "latency_cycles": 2, "initiation_interval": 1, "clock_period_ns": 4.0, "latency_ns": 8.0, \(st)
         "input": {"size": 2, "type": "fixed<8,2>", "bus_bits": 16}, "output": {"size": 1, "type": "fixed<8,2>", "bus_bits": 8},
         "languages": ["verilog"],
         "layers": [{"name": "fc&1", "op": "dense", "module": "m_fc1", "inputs": 2, "outputs": 1, "input_type": "fixed<8,2>",
                     "output_type": "fixed<8,2>", "latency_cycles": 2, "multipliers": 3, "adders": 1, "register_bits": 20,
                     "tables": [], "table_bits": 0, "reuse_factor": 2\(ls)\(y)}],
         "resources": {"multipliers": 3, "adders": 1, "register_bits": 20, "table_bits": 0, "note": "n"}\(syn)}
        """
    }

    func testSynthesisAndYosysColumnsWhenPresent() {
        let plain = ReportHTML.render(report: report(synthesis: false, yosys: false, stages: true))
        XCTAssertFalse(plain.contains("id=\"synthesis\""))
        XCTAssertFalse(plain.contains("Yosys cells"))
        XCTAssertTrue(plain.contains("rtlgen synth DIR"))
        let full = ReportHTML.render(report: report(synthesis: true, yosys: true, stages: true))
        XCTAssertTrue(full.contains("id=\"synthesis\""))
        XCTAssertTrue(full.contains("<div class=\"k\">LUT</div><div class=\"v\">1,234</div>"))
        XCTAssertTrue(full.contains("<div class=\"k\">FF</div><div class=\"v\">567</div>"))
        XCTAssertTrue(full.contains("<th>Yosys cells</th>"))
        XCTAssertTrue(full.contains("<td>77</td><td>3</td>"))
        XCTAssertEqual(full, ReportHTML.render(report: report(synthesis: true, yosys: true, stages: true)))
    }

    func testNamesEscapedAndStagesDrawn() {
        let h = ReportHTML.render(report: report(synthesis: false, yosys: false, stages: true))
        XCTAssertTrue(h.contains("<h1>m&lt;x&gt;</h1>"))
        XCTAssertTrue(h.contains("fc&amp;1"))
        XCTAssertFalse(h.contains("fc&1"))
        XCTAssertTrue(h.contains("<title>stage 0: 3.10 ns</title>"))
        XCTAssertTrue(h.contains("<title>stage 1: 2.50 ns</title>"))
        XCTAssertTrue(h.contains("reuse factor: 2"))
        XCTAssertFalse(h.lowercased().contains("<script"))
    }

    func testNoStageDelaysStillListsLayers() {
        let h = ReportHTML.render(report: report(synthesis: false, yosys: false, stages: false))
        XCTAssertTrue(h.contains("No per-stage delays"))
        XCTAssertFalse(h.contains("<title>stage 0:"))
        XCTAssertTrue(h.contains("fc&amp;1 (dense): stages 0–1"))
    }
}
