rtl/verilog/jet_tagger_fc1.v
rtl/verilog/jet_tagger_relu1.v
rtl/verilog/jet_tagger_fc2.v
rtl/verilog/jet_tagger_relu2.v
rtl/verilog/jet_tagger_fc3.v
rtl/verilog/jet_tagger_relu3.v
rtl/verilog/jet_tagger_output.v
rtl/verilog/jet_tagger.v
