{
  "targets": [
    {
      "target_name": "sluice_tcp_writer",
      "sources": ["src/tcp_writer.cc"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
