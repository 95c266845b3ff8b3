; expect: unsat
;
; semantics.md E14 "podSelector peer is namespace-local" (S2.2, S3.5.1).
;
; Policy set:
;   p0 = NP(prod) default-deny {podSelector: {}, policyTypes: [Ingress]}            (E2)
;   p1 = NP(prod) db {podSelector: {matchLabels: {app: db}},
;                     ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]}
; Universe:
;   namespace atoms: 0 = prod, 1 = other (dev is not named by any policy: "other")
;   pod-label key app: 0 = absent, 1 = "db", 2 = "web", 3 = any other value
;
; Question: can a pod labelled app=web outside prod (e.g. dev/web) reach a prod pod
; labelled app=db (on any port) from anywhere but the db pod's node?
; Expected: unsat. The podSelector-only peer carries ns = prod (S3.5.1).
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun app_db () Int 1)
(define-fun app_web () Int 2)
(define-fun app_OTHER () Int 3)
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

; matchLabels {app: db} is the requirement app In [db] (S2.2): label index in {1}.
(define-fun p0.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))
(define-fun p1.selects_dst () Bool
  (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)))
; p1 rule 0, peer 0: podSelector only -> a pod, in the policy's namespace, app In [web].
(define-fun p1.in0 () Bool
  (and (= src.kind POD) (= src.ns NS_prod) (= |src.label[app]| app_web)))

(define-fun ingress_isolated () Bool (or p0.selects_dst p1.selects_dst))
(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not ingress_isolated)
  (and p1.selects_dst p1.in0)))          ; p0 contributes no rule
(define-fun egress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (and (= src.kind POD) (= |src.label[app]| app_web)))   ; an app=web pod ...
(assert (not (= src.ns NS_prod)))                               ; ... outside prod
(assert (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)))
(assert allowed)
(check-sat)
