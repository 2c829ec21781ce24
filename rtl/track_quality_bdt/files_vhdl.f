rtl/vhdl/track_quality_bdt_bdt.vhd
rtl/vhdl/track_quality_bdt.vhd
