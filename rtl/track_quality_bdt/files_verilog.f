rtl/verilog/track_quality_bdt_bdt.v
rtl/verilog/track_quality_bdt.v
