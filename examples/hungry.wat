;; A greedy app (world berth:host/app): `run` grows its memory 16 pages at a time and, when the
;; runtime's ceiling refuses, returns err("out of memory"). It never gets past its limit.
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "out of memory")
  (func (export "berth:host/entry@0.1.0#run") (result i32)
    (block $refused
      (loop $grow
        (br_if $refused (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
        (br $grow)))
    (i32.store8 (i32.const 0) (i32.const 1))
    (i32.store (i32.const 4) (i32.const 64))
    (i32.store (i32.const 8) (i32.const 13))
    (i32.const 0))
)
