;; A preview1 program (wrapped by jco's command adapter) that probes Berth's WASI host:
;; it stores one errno or value byte per probe at 2048, writes them to stdout and calls
;; proc_exit(7) (which the adapter turns into wasi:cli/exit with `err`).
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "/etc/passwd")   ;; 11
  (data (i32.const 1040) "link-out")      ;; 8
  (data (i32.const 1056) "../../etc")     ;; 9
  (data (i32.const 1072) "link2")         ;; 5
  (data (i32.const 1088) "sub")           ;; 3
  (data (i32.const 1104) "../x")          ;; 4
  (data (i32.const 1120) "in.txt")        ;; 6
  (func $put (param $i i32) (param $v i32) (i32.store8 (i32.add (i32.const 2048) (local.get $i)) (local.get $v)))
  (func (export "_start")
    ;; 0,1: environment (errno, count)
    (call $put (i32.const 0) (call $environ_sizes_get (i32.const 100) (i32.const 104)))
    (call $put (i32.const 1) (i32.load (i32.const 100)))
    ;; 2,3: arguments (errno, count)
    (call $put (i32.const 2) (call $args_sizes_get (i32.const 108) (i32.const 112)))
    (call $put (i32.const 3) (i32.load (i32.const 108)))
    ;; 4: symlink to an absolute target
    (call $put (i32.const 4) (call $path_symlink (i32.const 1024) (i32.const 11) (i32.const 3) (i32.const 1040) (i32.const 8)))
    ;; 5: symlink climbing out
    (call $put (i32.const 5) (call $path_symlink (i32.const 1056) (i32.const 9) (i32.const 3) (i32.const 1072) (i32.const 5)))
    ;; 6: mkdir inside
    (call $put (i32.const 6) (call $path_create_directory (i32.const 3) (i32.const 1088) (i32.const 3)))
    ;; 7: open ../x
    (call $put (i32.const 7) (call $path_open (i32.const 3) (i32.const 1) (i32.const 1104) (i32.const 4)
      (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 116)))
    ;; 8,9: sleep 20 ms on the monotonic clock (errno, events)
    (i64.store (i32.const 300) (i64.const 0))
    (i32.store8 (i32.const 308) (i32.const 0))
    (i32.store (i32.const 316) (i32.const 1))
    (i64.store (i32.const 324) (i64.const 20000000))
    (i64.store (i32.const 332) (i64.const 0))
    (i32.store16 (i32.const 340) (i32.const 0))
    (call $put (i32.const 8) (call $poll_oneoff (i32.const 300) (i32.const 400) (i32.const 1) (i32.const 120)))
    (call $put (i32.const 9) (i32.load (i32.const 120)))
    ;; 10: random
    (call $put (i32.const 10) (call $random_get (i32.const 200) (i32.const 16)))
    ;; 11: monotonic clock
    (call $put (i32.const 11) (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 124)))
    ;; 12,13: open in.txt and read it (errno of open, first byte)
    (call $put (i32.const 12) (call $path_open (i32.const 3) (i32.const 1) (i32.const 1120) (i32.const 6)
      (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 128)))
    (i32.store (i32.const 132) (i32.const 600))
    (i32.store (i32.const 136) (i32.const 1))
    (drop (call $fd_read (i32.load (i32.const 128)) (i32.const 132) (i32.const 1) (i32.const 140)))
    (call $put (i32.const 13) (i32.load8_u (i32.const 600)))
    (drop (call $fd_close (i32.load (i32.const 128))))
    ;; 14,15: list the data directory (errno, whether any entry came back)
    (call $put (i32.const 14) (call $fd_readdir (i32.const 3) (i32.const 4096) (i32.const 1024) (i64.const 0) (i32.const 144)))
    (call $put (i32.const 15) (i32.gt_u (i32.load (i32.const 144)) (i32.const 0)))
    ;; write the 16 result bytes to stdout, then exit 7
    (i32.store (i32.const 0) (i32.const 2048))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (i32.const 7))
  )
)
