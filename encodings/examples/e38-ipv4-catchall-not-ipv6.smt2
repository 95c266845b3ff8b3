; expect: unsat
;
; semantics.md E38 "IPv4 catch-all does not cover IPv6" (S3.5.4).
;
; Policy set:
;   p0 = NP(prod) {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress],
;                  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}
; Universe: namespace atoms 0 = prod, 1 = other; pod key app: 0 absent, 1 web, 2 other.
;
; Question: is any IPv6 flow from prod/app=web allowed (e.g. to X6 = 2001:db8::7)?
; Expected: unsat. With prefix 0 the mask test is vacuous, but the family conjunct
; (not v6) remains.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun app_web () Int 1)
(define-fun app_OTHER () Int 2)
(define-fun ipblock_matches_pods () Bool false)

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

(define-fun p0.selects_src () Bool
  (and (= src.kind POD) (= src.ns NS_prod) (= |src.label[app]| app_web)))
(define-fun p0.eg0 () Bool (and
  (or (not (= dst.kind POD)) ipblock_matches_pods)
  (not v6)                                         ; family of 0.0.0.0/0
  (= (bvand dst.ip4 #x00000000) #x00000000)))      ; prefix 0: always true

(define-fun egress_ok () Bool (or
  (not (= src.kind POD))
  (not p0.selects_src)
  (and p0.selects_src p0.eg0)))
(define-fun ingress_ok () Bool true)
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (and (= src.kind POD) (= src.ns NS_prod) (= |src.label[app]| app_web)))
(assert v6)                                  ; an IPv6 flow
(assert allowed)
(check-sat)
