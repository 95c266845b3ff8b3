; expect: unsat
;
; semantics.md E10 as a diff: checking one widened flow class (README §9).
;
; Old policy set:
;   A = NP(prod) db-5432 {podSelector: {matchLabels: {app: db}}, ingress: [{ports: [{port: 5432}]}]}
; New policy set: A and
;   B = NP(prod) db-9999 {podSelector: {matchLabels: {app: db}}, ingress: [{ports: [{port: 9999}]}]}
; Universe (over both sides): namespace atoms 0 = prod, 1 = other;
;   pod key app: 0 absent, 1 "db", 2 other.
;
; Starting from the witness dev/web -> prod/db:9999/TCP found by diff-e10-newly-allowed,
; the enumerator widens each dimension while (cube AND NOT newly_allowed) stays unsat:
;   source kind  -> {pod, address}; widening to "any" fails because the db pod's own
;                   node is allowed on both sides (S3.3.1 a);
;   source ns, source labels, address family, addresses -> any;
;   destination  -> pod in prod with app=db (widening app fails: other pods of prod
;                   are not isolated, so nothing changes for them);
;   protocol     -> TCP; port -> [9999, 9999], the atom between the cuts 9999 and 10000.
; Question: the final cube AND NOT newly_allowed (i.e. is the cube not entirely newly
; allowed?).
; Expected: unsat: every flow of the cube is newly allowed, so the cube is reported
; as one flow class and blocked before the next search.
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

(define-fun cube () Bool (and
  (or (= src.kind POD) (= src.kind ADDRESS))
  (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)
  (= proto TCP) (<= 9999 port) (<= port 9999)))
(assert wf)
(assert cube)
(assert (not newly_allowed))
(check-sat)
