; expect: unsat
;
; semantics.md E31 "endPort equal to port" (S3.4.5, S6.7), as an equivalence proof.
;
; Old policy set:
;   o0 = NP(prod) web {podSelector: {}, ingress: [{ports: [{port: 443}]}]}
; New policy set:
;   n0 = NP(prod) web {podSelector: {}, ingress: [{ports: [{port: 443, endPort: 443}]}]}
; Universe (built over both sides): namespace atoms 0 = prod, 1 = other.
;
; Question: is some well-formed flow newly allowed or newly blocked?
;   newly allowed = wf AND allowed_new AND NOT allowed_old
;   newly blocked = wf AND allowed_old AND NOT allowed_new
; npdiff asks the two separately; their disjunction is asserted here, so one unsat
; answer proves both empty: the sets are equivalent.
; Expected: unsat, under --endport=range (set below) and, changing endport_range to
; false, under --endport=first-port as well.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun TCP () Int 0)
(define-fun NS_prod () Int 0)
(define-fun NS_other () Int 1)
(define-fun allow_from_local_node () Bool true)
(define-fun endport_range () Bool true)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 proto 2) (<= 1 port 65535)))

(define-fun sel_prod_all () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))
; old: number element
(define-fun o0.in0 () Bool (and (= proto TCP) (= port 443)))
; new: range element 443..443 (or its first port with --endport=first-port)
(define-fun n0.in0 () Bool (and (= proto TCP)
  (ite endport_range (and (<= 443 port) (<= port 443)) (= port 443))))

(define-fun allowed_old () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not sel_prod_all)
  (and sel_prod_all o0.in0)))
(define-fun allowed_new () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not sel_prod_all)
  (and sel_prod_all n0.in0)))

(assert wf)
(assert (or (and allowed_new (not allowed_old))      ; newly allowed
            (and allowed_old (not allowed_new))))    ; newly blocked
(check-sat)
