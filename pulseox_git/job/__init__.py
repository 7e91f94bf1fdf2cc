"""The job's side: what a job hands the client to report, besides one page
(a batch manifest, the original's file-existence check), and the wrapper that
watches a job run (`run` the process, `record` the pages it posts, `monitor`
the posting)."""
