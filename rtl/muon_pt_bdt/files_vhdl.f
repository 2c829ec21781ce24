rtl/vhdl/muon_pt_bdt_bdt.vhd
rtl/vhdl/muon_pt_bdt.vhd
