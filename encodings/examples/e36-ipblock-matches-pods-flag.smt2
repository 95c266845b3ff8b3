; expect: sat
;
; semantics.md E36, flag part: with --ipblock-matches-pods (S6.1) pods carry addresses
; and an ipBlock matches them.
;
; Policy set:
;   p0 = NP(prod) web-egress {podSelector: {matchLabels: {app: web}},
;        policyTypes: [Egress],
;        egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.2.0/24]}}]}]}
; Universe: namespace atoms 0 = prod, 1 = other; pod key app: 0 absent, 1 web, 2 other.
;
; Question: with the flag, can prod/app=web reach a pod addressed 10.0.1.6 (prod/db)?
; Expected: sat (10.0.1.6 is inside 10.0.0.0/8 and outside 10.0.2.0/24). The model
; is a witness flow: dst.kind = 0 (pod), dst.ip4 = #x0a000106.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun app_web () Int 1)
(define-fun app_OTHER () Int 2)
(define-fun ipblock_matches_pods () Bool true)    ; --ipblock-matches-pods

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
(define-fun p0.eg0.block () Bool (and
  (not v6)                                                    ; IPv4 cidr
  (= (bvand dst.ip4 #xff000000) #x0a000000)                   ; in 10.0.0.0/8
  (not (= (bvand dst.ip4 #xffffff00) #x0a000200))))           ; not in 10.0.2.0/24
; ipBlock peer: a non-pod endpoint unless --ipblock-matches-pods (S6.1).
(define-fun p0.eg0 () Bool
  (and (or (not (= dst.kind POD)) ipblock_matches_pods) p0.eg0.block))

(define-fun egress_ok () Bool (or
  (not (= src.kind POD))
  (not p0.selects_src)
  (and p0.selects_src p0.eg0)))
(define-fun ingress_ok () Bool true)    ; no policy has Ingress
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (and (= src.kind POD) (= src.ns NS_prod) (= |src.label[app]| app_web)))
(assert (= dst.kind POD))                      ; a pod ...
(assert (not v6))
(assert (= dst.ip4 #x0a000106))               ; ... addressed 10.0.1.6 (prod/db)
(assert allowed)
(check-sat)
