rtl/verilog/muon_pt_bdt_bdt.v
rtl/verilog/muon_pt_bdt.v
