# The splice relay addon (native/splice_relay.c), built by scripts/build-addon.js: C only, -O2,
# Linux only (splice(2)); on any other OS the target builds nothing and the gateway uses its
# TypeScript pump. See docs/splice-relay.md.
{
  "targets": [
    {
      "target_name": "splice_relay",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/splice_relay.c", "native/front.c"],
          "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
          "configurations": {
            "Release": {
              "cflags!": ["-O3"],
              "cflags": ["-O2"]
            }
          }
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
