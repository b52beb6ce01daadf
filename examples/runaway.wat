;; A broken app (world berth:host/app): `run` never returns. The runtime ends it at its CPU
;; deadline and restarts it with growing back-off; its neighbours are not slowed.
(module
  (memory (export "memory") 1)
  (func (export "berth:host/entry@0.1.0#run") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
)
