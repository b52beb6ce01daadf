;; A well-behaved app (world berth:host/app): each call to `run` logs one line and returns ok.
(module
  ;; berth:host/log.log(level, message, fields): level enum, then (ptr, len) pairs.
  (import "berth:host/log@0.1.0" "log" (func $log (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 32) "hello from the greeter")
  ;; result<_, string> goes back through a return area: tag byte at 0.
  (func (export "berth:host/entry@0.1.0#run") (result i32)
    (call $log (i32.const 2) (i32.const 32) (i32.const 22) (i32.const 0) (i32.const 0))
    (i32.store8 (i32.const 0) (i32.const 0))
    (i32.const 0))
)
