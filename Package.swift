// swift-tools-version:6.0
// rtlgen: quantized neural networks to Verilog and VHDL, proven bit-exact.
// The targets follow the pipeline: FixedPoint -> ModelIR -> Golden -> Netlist -> HDL -> Driver -> rtlgen.
import PackageDescription

let package = Package(
    name: "rtlgen",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rtlgen", targets: ["rtlgen"]),
        .library(name: "RTLGenDriver", targets: ["Driver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // Exact fixed-point arithmetic: types, rounding, overflow, decimal I/O.
        .target(name: "FixedPoint", dependencies: [.product(name: "BigInt", package: "BigInt")]),
        // Model IR, the native JSON format (parser keeps number text exact) and validation.
        .target(name: "ModelIR", dependencies: ["FixedPoint", .product(name: "BigInt", package: "BigInt")]),
        // Bit-exact golden evaluator (`rtlgen predict`).
        .target(name: "Golden", dependencies: ["ModelIR", "FixedPoint"]),
        // Hardware netlist IR (explicit widths/signedness), lowering passes, pipelining, interpreter.
        .target(name: "Netlist", dependencies: ["ModelIR", "FixedPoint", .product(name: "BigInt", package: "BigInt")]),
        // Verilog-2001 and VHDL-93 emitters and generated testbenches, from the same netlist.
        .target(name: "HDL", dependencies: ["Netlist", "FixedPoint", .product(name: "BigInt", package: "BigInt")]),
        // build / predict / sim orchestration: output folders, reports, simulator drivers.
        .target(name: "Driver", dependencies: ["ModelIR", "Golden", "Netlist", "HDL", "FixedPoint", "Yams"]),
        .executableTarget(name: "rtlgen", dependencies: [
            "Driver", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "FixedPointTests", dependencies: ["FixedPoint", .product(name: "BigInt", package: "BigInt")]),
        .testTarget(name: "ModelIRTests", dependencies: ["ModelIR", "Golden"]),
        .testTarget(name: "NetlistTests", dependencies: ["Netlist", "Golden", "ModelIR", "FixedPoint", "Driver", .product(name: "BigInt", package: "BigInt")]),
        .testTarget(name: "DriverTests", dependencies: ["Driver", "ModelIR", "Golden", "FixedPoint"]),
    ]
)
