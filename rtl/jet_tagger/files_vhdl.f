rtl/vhdl/jet_tagger_fc1.vhd
rtl/vhdl/jet_tagger_relu1.vhd
rtl/vhdl/jet_tagger_fc2.vhd
rtl/vhdl/jet_tagger_relu2.vhd
rtl/vhdl/jet_tagger_fc3.vhd
rtl/vhdl/jet_tagger_relu3.vhd
rtl/vhdl/jet_tagger_output.vhd
rtl/vhdl/jet_tagger.vhd
