; expect: sat
;
; semantics.md E10 "Additive policies" (S3.3.3) as a diff, newly allowed side.
;
; Old policy set:
;   A = NP(prod) db-5432 {podSelector: {matchLabels: {app: db}}, ingress: [{ports: [{port: 5432}]}]}
; New policy set: A and
;   B = NP(prod) db-9999 {podSelector: {matchLabels: {app: db}}, ingress: [{ports: [{port: 9999}]}]}
; Universe (over both sides): namespace atoms 0 = prod, 1 = other;
;   pod key app: 0 absent, 1 "db", 2 other.
;
; Question: newly allowed = wf AND allowed_new AND NOT allowed_old. Any such flow?
; Expected: sat; every model is a flow to a prod app=db pod on TCP 9999 from a source
; other than that pod's node (e.g. dev/web -> prod/db:9999 of E10).
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun TCP () Int 0)
(define-fun UDP () Int 1)
(define-fun SCTP () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun app_db () Int 1)
(define-fun app_OTHER () Int 2)
(define-fun allow_from_local_node () Bool true)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const |src.label[app]| Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const |dst.label[app]| Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 |src.label[app]| app_OTHER) (<= 0 |dst.label[app]| app_OTHER)
  (<= 0 proto 2) (<= 1 port 65535)))

; A and B select the same pods: prod pods labelled app=db.
(define-fun A.selects_dst () Bool
  (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)))
(define-fun B.selects_dst () Bool
  (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)))
(define-fun A.in0 () Bool (and (= proto TCP) (= port 5432)))   ; from absent: any source
(define-fun B.in0 () Bool (and (= proto TCP) (= port 9999)))

; Old side: A only.  New side: A and B.  Egress is unrestricted on both sides.
(define-fun allowed_old () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not A.selects_dst)
  (and A.selects_dst A.in0)))
(define-fun allowed_new () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not (or A.selects_dst B.selects_dst))
  (and A.selects_dst A.in0)
  (and B.selects_dst B.in0)))
(define-fun newly_allowed () Bool (and wf allowed_new (not allowed_old)))
(define-fun newly_blocked () Bool (and wf allowed_old (not allowed_new)))

(assert newly_allowed)
(check-sat)
