// swift-tools-version:6.0
// rtlgen: quantized neural networks to Verilog and VHDL, proven bit-exact.
// The targets follow the pipeline: FixedPoint -> ModelIR -> Golden -> Netlist -> HDL -> Driver -> rtlgen.
// Inside ModelIR the folders show the same order: Core (the Model, ModelCore.validate: the one
// entry point every front end calls) -> Semantics (each op family's exact meaning on codes) ->
// FrontEnd/NativeJSON (the native reader and writer; importers plug in beside it).
// RandomModels builds the regression models as `Model` values (used by the CLI and the tests).
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
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // Exact fixed-point arithmetic: types, rounding, overflow, decimal I/O.
        .target(name: "FixedPoint", dependencies: [.product(name: "BigInt", package: "BigInt")]),
        // The model core (Model, validation and normalization), the exact semantics of every op
        // family, and the native JSON front end (parser keeps number text exact; writer).
        .target(name: "ModelIR", dependencies: ["FixedPoint", .product(name: "BigInt", package: "BigInt")]),
        // Random regression models (`rtlgen random-model`), built as Model values.
        .target(name: "RandomModels", dependencies: ["ModelIR", "FixedPoint"]),
        // Bit-exact golden evaluator (`rtlgen predict`).
        .target(name: "Golden", dependencies: ["ModelIR", "FixedPoint"]),
        // Hardware netlist IR (explicit widths/signedness), lowering passes, pipelining, interpreter.
        .target(name: "Netlist", dependencies: ["ModelIR", "FixedPoint", "Golden", .product(name: "BigInt", package: "BigInt")]),
        // Verilog-2001 and VHDL-93 emitters and generated testbenches, from the same netlist.
        .target(name: "HDL", dependencies: ["Netlist", "FixedPoint", .product(name: "BigInt", package: "BigInt")]),
        // The HDF5 C library (Debian libhdf5-dev, found with pkg-config), for Keras weight files.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        // Importers: Keras / QKeras (JSON + HDF5, full-model .h5, .keras), ONNX / QONNX (protobuf
        // message code generated once into ONNX/Generated, scripts/gen-onnx-proto.sh) and hls4ml
        // configs -> ModelIR.
        .target(name: "FrontEnds", dependencies: [
            "ModelIR", "FixedPoint", "CHDF5", "Yams",
            .product(name: "BigInt", package: "BigInt"), .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // build / predict / sim orchestration: output folders, reports, simulator drivers.
        .target(name: "Driver", dependencies: ["ModelIR", "Golden", "Netlist", "HDL", "FixedPoint", "RandomModels", "FrontEnds", "Yams",
                                               .product(name: "BigInt", package: "BigInt")]),
        .executableTarget(name: "rtlgen", dependencies: [
            "Driver", "RandomModels", "FrontEnds", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "FixedPointTests", dependencies: ["FixedPoint", .product(name: "BigInt", package: "BigInt")]),
        .testTarget(name: "ModelIRTests", dependencies: ["ModelIR", "Golden", "RandomModels"]),
        .testTarget(name: "NetlistTests", dependencies: ["Netlist", "Golden", "ModelIR", "FixedPoint", "RandomModels", "Driver", .product(name: "BigInt", package: "BigInt")]),
        .testTarget(name: "DriverTests", dependencies: ["Driver", "ModelIR", "Golden", "FixedPoint", "RandomModels"]),
        .testTarget(name: "FrontEndsTests", dependencies: ["FrontEnds", "Driver", "ModelIR", "Golden", "FixedPoint"],
                    exclude: ["Fixtures"]),
    ]
)
